/**
 * The worker runtime: pull attempts with credits (free slots), claim each by appending
 * AttemptStarted to a new attempt stream (invariant 1: the loser drops it), run it, and append
 * the outcome expecting revision 0 (invariant 2: if the leader abandoned the attempt first, the
 * outcome is refused and dropped). Side effects can run twice after a crash (invariant 7); the
 * history never records two outcomes for one attempt.
 *
 * A slot is held from the claim until the task has run; the outcome is appended after the slot
 * is free, so under load the next claim and this outcome can share one commit (the engine
 * group-commits the appends of its workers). drain() still waits for those outcomes.
 *
 * drain(): stop claiming, let in-flight attempts finish within a grace period, abandon the rest
 * (kind worker_lost, so they are retried elsewhere), leave the dispatcher.
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyError, DagrunError } from '../errors.js';
import { streams } from '../events/schemas/index.js';
import type { EventStore, ExpectedRevision, NewEvent } from '../events/types.js';
import { type Logger, withCorrelation } from '../observability/logger.js';
import {
  ATTR,
  endSpan,
  SPAN,
  SpanKind,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../observability/tracing.js';
import { type AttemptRef, attemptKey, type WorkItem, type WorkSource } from '../scheduler/work-source.js';
import type { AttemptLogStore } from './attempt-logs.js';
import { toExecutableTask } from './executable-task.js';
import type { ExecutionResult, Failure, TaskExecutor } from './executors/types.js';

export interface WorkerOptions {
  readonly id?: string;
  readonly capacity: number;
  readonly labels?: readonly string[];
  readonly source: WorkSource;
  readonly store: EventStore;
  readonly executor: TaskExecutor;
  readonly logs: AttemptLogStore;
  readonly log: Logger;
  /** Where relative scripts and working directories resolve (the DAG folder, or a scripts dir). */
  readonly baseDir: string;
  readonly pythonInterpreter?: string;
  readonly killGraceMs?: number;
  readonly pollWaitMs?: number;
  /** Told of every attempt this worker ran, once its outcome is settled (for metrics). */
  readonly onAttemptEnd?: (end: AttemptEnd) => void;
}

export interface AttemptEnd {
  readonly taskType: string;
  /** The outcome event appended (AttemptSucceeded, …), or `refused` when the leader decided first. */
  readonly outcome: string;
  readonly durationMs: number;
}

interface InFlight {
  readonly ref: AttemptRef;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

export class Worker {
  readonly id: string;
  /** Attempts holding a slot: claimed, or running. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Every attempt not yet settled, including those whose outcome is still being appended. */
  private readonly reporting = new Set<Promise<void>>();
  private readonly stopPolling = new AbortController();
  private polling: Promise<void> | undefined;
  private draining = false;
  private slotFreed: (() => void) | undefined;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `worker-${randomUUID().slice(0, 8)}`;
  }

  get running(): number {
    return this.inFlight.size;
  }

  async start(): Promise<void> {
    await this.options.source.join({
      id: this.id,
      capacity: this.options.capacity,
      labels: this.options.labels ?? [],
    });
    this.polling = this.pollLoop();
  }

  /** Stops claiming; waits up to `graceMs` for in-flight attempts, then abandons what is left. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.stopPolling.abort();
    this.slotFreed?.();
    await this.polling;
    const all = Promise.all([...this.reporting]);
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([all, timer]);
    for (const flight of this.inFlight.values()) flight.abort.abort(new DrainAbort());
    await all;
    await this.options.source.leave(this.id);
  }

  private async pollLoop(): Promise<void> {
    const { source, capacity, pollWaitMs = 1000 } = this.options;
    while (!this.draining) {
      const credits = capacity - this.inFlight.size;
      // A freed slot ends the wait at once: a worker whose slots were all busy when it polled
      // must not sit out the whole long poll (that capped a worker at `capacity` attempts per
      // `pollWaitMs`). Cancellations still end the wait through the source.
      const wake = new AbortController();
      const stop = () => wake.abort(WAKE);
      this.stopPolling.signal.addEventListener('abort', stop, { once: true });
      this.slotFreed = () => wake.abort(WAKE);
      let result: Awaited<ReturnType<WorkSource['poll']>>;
      try {
        result = await source.poll(this.id, credits, { waitMs: pollWaitMs, signal: wake.signal });
      } catch (error) {
        if (this.draining) return;
        this.options.log.warn('poll failed', { workerId: this.id, error: String(error) });
        await new Promise((r) => setTimeout(r, 500));
        continue;
      } finally {
        this.stopPolling.signal.removeEventListener('abort', stop);
        this.slotFreed = undefined;
      }
      for (const ref of result.cancel) this.inFlight.get(attemptKey(ref))?.abort.abort(new CancelAbort());
      for (const item of result.items) this.begin(item);
    }
  }

  private begin(item: WorkItem): void {
    const key = attemptKey(item);
    if (this.inFlight.has(key)) return;
    const abort = new AbortController();
    let released = false;
    // The slot frees when the task has run, not when its outcome has committed: the next claim
    // can then share a commit with this outcome instead of waiting for it (group commit).
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight.delete(key);
      this.slotFreed?.();
    };
    const done: Promise<void> = withCorrelation(
      {
        correlationId: item.runId,
        runId: item.runId,
        taskId: item.taskId,
        attempt: item.attempt,
        workerId: this.id,
      },
      () => this.runAttempt(item, abort, release),
    )
      .catch((error) => {
        this.options.log.error('attempt crashed', { error: String(error) });
      })
      .finally(() => {
        release();
        this.reporting.delete(done);
      });
    this.inFlight.set(key, { ref: item, abort, done });
    this.reporting.add(done);
  }

  /**
   * Runs one attempt inside its attempt span when tracing is on: a child of the dispatch span
   * whose traceparent the work item carries; the attempt's events carry the attempt span's.
   */
  private async runAttempt(item: WorkItem, abort: AbortController, release: () => void): Promise<void> {
    if (!tracingEnabled()) {
      await this.attempt(item, abort, release, undefined);
      return;
    }
    const span = startSpan(SPAN.attempt, {
      parent: item.traceparent,
      kind: SpanKind.CONSUMER,
      attributes: {
        [ATTR.runId]: item.runId,
        [ATTR.dagId]: item.dagId,
        [ATTR.taskId]: item.taskId,
        [ATTR.attempt]: item.attempt,
        [ATTR.taskType]: item.task.type,
        [ATTR.term]: item.term,
        [ATTR.workerId]: this.id,
      },
    });
    try {
      const settled = await this.attempt(item, abort, release, traceparentOf(span));
      span.setAttribute(ATTR.outcome, settled.outcome);
      if (settled.failure) span.setAttribute(ATTR.failureKind, settled.failure.kind);
      endSpan(span, settled.failure?.message);
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  /** Claims, runs and settles one attempt; says how it was settled. */
  private async attempt(
    item: WorkItem,
    abort: AbortController,
    release: () => void,
    traceparent: string | undefined,
  ): Promise<{ outcome: string; failure?: Failure | undefined }> {
    const { log } = this.options;
    const stream = streams.attempt(item.runId, item.taskId, item.attempt);
    const metadata = {
      correlationId: item.runId,
      causationId: attemptKey(item),
      actor: `worker:${this.id}`,
      ...(traceparent ? { traceparent } : {}),
    };
    const ref = { runId: item.runId, taskId: item.taskId, attempt: item.attempt };
    try {
      const claim: NewEvent = {
        id: randomUUID(),
        type: 'AttemptStarted',
        data: { ...ref, workerId: this.id, startedAt: new Date().toISOString() },
        metadata,
      };
      await this.appendDurably(stream, claim, 'no_stream', CLAIM_RETRY_MS, abort.signal);
    } catch (error) {
      if (error instanceof ConcurrencyError) {
        log.info('attempt already claimed elsewhere; dropped');
        return { outcome: 'not_claimed' };
      }
      throw error;
    }
    // Formatting a log line costs even when no transport keeps it: ask first on this hot path.
    const info = log.isInfoEnabled();
    if (info) log.info('attempt started', { type: item.task.type });
    // Only processes write an output file; other task types need no scratch directory.
    const needsDir = item.task.type === 'shell' || item.task.type === 'python';
    const outputDir = needsDir ? await mkdtemp(join(tmpdir(), 'dagrun-attempt-')) : noOutputDir;
    let result: ExecutionResult;
    const started = performance.now();
    try {
      result = await this.options.executor.execute({
        ...ref,
        task: toExecutableTask(item.task),
        params: item.params,
        // A noop reads nothing: no need to fetch what its upstream tasks published.
        upstream:
          item.task.type === 'noop'
            ? {}
            : await this.durably('reading upstream outputs', () => this.upstreamOutputs(item)),
        timeoutMs: item.task.timeoutMs,
        killGraceMs: this.options.killGraceMs ?? 5000,
        baseDir: this.options.baseDir,
        pythonInterpreter: this.options.pythonInterpreter ?? 'python3',
        signal: abort.signal,
        outputDir,
      });
      // Stored before the outcome, so a finished attempt always has its logs; silence costs nothing.
      if (result.stdout.totalBytes + result.stderr.totalBytes > 0) {
        const logs = { stdout: result.stdout, stderr: result.stderr };
        await this.durably('storing attempt logs', () => this.options.logs.save(ref, logs));
      }
    } catch (error) {
      // Claimed attempts always get an outcome: an attempt left "running" on a live worker would
      // hold its run until the leader's deadline. Failed here, it is retried by policy.
      log.error('attempt failed inside the worker', { error: String(error) });
      result = internalFailure(error, performance.now() - started);
    } finally {
      if (needsDir) await rm(outputDir, { recursive: true, force: true }).catch(() => {});
    }
    const finishedAt = new Date().toISOString();
    const common = {
      ...ref,
      finishedAt,
      durationMs: result.durationMs,
      ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
      ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
    };
    const outcome =
      abort.signal.reason instanceof DrainAbort
        ? {
            type: 'AttemptAbandoned',
            data: { ...ref, failure: drainFailure, abandonedAt: finishedAt },
          }
        : result.status === 'succeeded'
          ? { type: 'AttemptSucceeded', data: { ...common, output: result.output } }
          : { type: 'AttemptFailed', data: { ...common, failure: result.failure } };
    release();
    try {
      await this.appendDurably(stream, { id: randomUUID(), ...outcome, metadata }, 0, OUTCOME_RETRY_MS);
      if (info) log.info('attempt finished', { outcome: outcome.type, durationMs: result.durationMs });
      this.options.onAttemptEnd?.({
        taskType: item.task.type,
        outcome: outcome.type,
        durationMs: result.durationMs,
      });
      return { outcome: outcome.type, failure: 'failure' in outcome.data ? outcome.data.failure : undefined };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      this.options.onAttemptEnd?.({
        taskType: item.task.type,
        outcome: 'refused',
        durationMs: result.durationMs,
      });
      // The leader decided this attempt first (cancelled, timed out, worker presumed lost).
      log.warn('attempt outcome refused: already decided', { outcome: outcome.type });
      return { outcome: 'refused' };
    }
  }

  /**
   * Appends one event, retrying failures that are not answers (a lost connection, a restarting
   * database) with backoff for up to `retryMs`. The event keeps its id across tries, so a try
   * that did commit before its answer was lost is recognised as a duplicate, not appended twice.
   * Refusals (a lost race, a fenced or invalid append) are thrown at once.
   */
  private async appendDurably(
    stream: string,
    event: NewEvent,
    expected: ExpectedRevision,
    retryMs: number,
    /** Stop retrying when this aborts (a claim of a worker that drains). */
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = performance.now() + retryMs;
    for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        await this.options.store.append(stream, [event], expected);
        return;
      } catch (error) {
        if (error instanceof DagrunError || performance.now() + pauseMs > deadline || signal?.aborted)
          throw error;
        this.options.log.warn('append failed; retrying', { stream, error: String(error), pauseMs });
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  /** Runs `work`, retrying failures that are not answers (the store unreachable) with backoff. */
  private async durably<T>(what: string, work: () => Promise<T>): Promise<T> {
    const deadline = performance.now() + OUTCOME_RETRY_MS;
    for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof DagrunError || performance.now() + pauseMs > deadline) throw error;
        this.options.log.warn(`${what} failed; retrying`, { error: String(error), pauseMs });
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  /** Reads the published output of each upstream attempt named in the work item. */
  private async upstreamOutputs(item: WorkItem): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
      Object.entries(item.upstream).map(async ([taskId, attempt]) => {
        const events = await this.options.store.readStream(streams.attempt(item.runId, taskId, attempt));
        const succeeded = events.find((e) => e.type === 'AttemptSucceeded');
        return [taskId, (succeeded?.data as { output?: unknown } | undefined)?.output ?? null] as const;
      }),
    );
    return Object.fromEntries(entries);
  }
}

/**
 * How long a claim, and an outcome, are retried while the store is unreachable. Neither may give
 * up early: an append whose answer was lost may have committed (a server stopping mid-commit), and
 * a claim that committed but was dropped would leave an attempt "running" on a live worker until
 * its deadline. Retrying with the same event id ends in an answer: appended, a duplicate (it did
 * commit), or refused (another worker claimed it meanwhile). Past this, the leader's deadline
 * (timeout + grace) abandons the attempt.
 */
const CLAIM_RETRY_MS = 30 * 60_000;
const OUTCOME_RETRY_MS = 30 * 60_000;

/** The reason a poll's wait is cut short (a constant: an abort without one builds a DOMException). */
const WAKE = new Error('wake up');

/** Where tasks without a scratch directory point `outputDir` (they never write to it). */
const noOutputDir = tmpdir();

/** The result of an attempt the worker itself could not carry through (a bug, a broken store). */
function internalFailure(error: unknown, durationMs: number): ExecutionResult {
  const empty = { head: '', tail: '', totalBytes: 0, truncated: false };
  return {
    status: 'failed',
    failure: { kind: 'internal', message: `the worker failed: ${String(error)}`.slice(0, 2000) },
    durationMs,
    stdout: empty,
    stderr: empty,
  };
}

class DrainAbort extends Error {}
class CancelAbort extends Error {}

const drainFailure: Failure = {
  kind: 'worker_lost',
  message: 'the worker shut down before the attempt finished',
};
