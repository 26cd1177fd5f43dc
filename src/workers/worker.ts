/**
 * The worker runtime: pull attempts with credits (free slots), claim each by appending
 * AttemptStarted to a new attempt stream (invariant 1: the loser drops it), run it (see
 * attempt-execution.ts), and append the outcome expecting revision 0 (invariant 2: if the leader
 * abandoned the attempt first, the outcome is refused and dropped). Side effects can run twice
 * after a crash (invariant 7); the history never records two outcomes for one attempt.
 *
 * Capacity counts the attempts executing at once (see slots.ts). A worker takes from the source
 * as many attempts as it has free slots plus its claim-ahead allowance (see claim-ahead.ts), and
 * claims each at once; a claimed attempt then runs as soon as a slot is free, or is released
 * unstarted (AttemptReleased, expected revision 0, not a try) if no slot frees within its start
 * bound. The outcome is appended after the slot is free, so under load the next claim and this
 * outcome can share one commit (the engine group-commits the appends of its workers).
 *
 * drain(): stop claiming, release what has not started, let executing attempts finish within a
 * grace period, abandon the rest (kind worker_lost, so they are retried elsewhere), leave the
 * dispatcher.
 */

import { randomUUID } from 'node:crypto';
import { ConcurrencyError } from '../errors.js';
import { streams } from '../events/schemas/index.js';
import type { NewEvent } from '../events/types.js';
import { withCorrelation } from '../observability/logger.js';
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
import { type AttemptExecutionContext, executeAttempt } from './attempt-execution.js';
import { ClaimAhead, type ClaimAheadSettings } from './claim-ahead.js';
import { appendDurably } from './durable.js';
import type { ExecutionResult, Failure } from './executors/types.js';
import { sweepOrphanScratchDirsOnce } from './scratch-dirs.js';
import { type SlotGrant, Slots } from './slots.js';

/** What the runtime needs, plus what executing an attempt needs (store, executor, logs, log, …). */
export interface WorkerOptions extends AttemptExecutionContext {
  readonly id?: string;
  /** Slots: attempts executing at once. */
  readonly capacity: number;
  /** Claiming beyond the free slots (see claim-ahead.ts); default: off. */
  readonly claimAhead?: ClaimAheadSettings;
  readonly labels?: readonly string[];
  readonly source: WorkSource;
  readonly pollWaitMs?: number;
  /** Told of every attempt this worker ran, once its outcome is settled (for metrics). */
  readonly onAttemptEnd?: (end: AttemptEnd) => void;
}

export interface AttemptEnd {
  readonly taskType: string;
  /**
   * The closing event appended (AttemptSucceeded, AttemptFailed, AttemptAbandoned, AttemptReleased),
   * `refused` when the leader decided first, `dropped` when the leader cancelled it before it ran.
   */
  readonly outcome: string;
  readonly durationMs: number;
}

interface Held {
  readonly abort: AbortController;
  /** performance.now() when it began executing; undefined while it is claimed or waits for a slot. */
  runningSince: number | undefined;
}

export class Worker {
  readonly id: string;
  /** Attempts taken from the source and not yet run: being claimed, waiting for a slot, executing. */
  private readonly held = new Map<string, Held>();
  /** Every attempt not yet settled, including those whose outcome is still being appended. */
  private readonly reporting = new Set<Promise<void>>();
  private readonly stopPolling = new AbortController();
  private polling: Promise<void> | undefined;
  private draining = false;
  private slotFreed: (() => void) | undefined;
  private readonly slots: Slots;
  private readonly claimAhead: ClaimAhead;

  constructor(private readonly options: WorkerOptions) {
    this.id = options.id ?? `worker-${randomUUID().slice(0, 8)}`;
    this.slots = new Slots(options.capacity);
    this.claimAhead = new ClaimAhead(options.claimAhead ?? { depth: 0 });
  }

  /** Attempts executing now (at most `capacity`). */
  get running(): number {
    return this.slots.running;
  }

  /** Claimed attempts waiting for a slot (claim-ahead). */
  get waiting(): number {
    return this.slots.waiting;
  }

  async start(): Promise<void> {
    // Best effort, in the background: what SIGKILLed workers on this machine left behind.
    void sweepOrphanScratchDirsOnce();
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
    // Claimed attempts that have not started go back at once, unstarted: no need to hold them.
    this.slots.withdrawAll();
    await this.polling;
    const all = Promise.all([...this.reporting]);
    const timer = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([all, timer]);
    for (const held of this.held.values()) held.abort.abort(new DrainAbort());
    await all;
    await this.options.source.leave(this.id);
  }

  private async pollLoop(): Promise<void> {
    const { source, capacity, pollWaitMs = 1000 } = this.options;
    while (!this.draining) {
      const credits = Math.max(0, capacity + this.claimAllowance() - this.held.size);
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
      for (const ref of result.cancel) this.held.get(attemptKey(ref))?.abort.abort(new CancelAbort());
      for (const item of result.items) this.begin(item);
    }
  }

  private claimAllowance(): number {
    if (!this.claimAhead.enabled) return 0;
    const since: number[] = [];
    for (const held of this.held.values()) if (held.runningSince !== undefined) since.push(held.runningSince);
    return this.claimAhead.allowance(since, performance.now());
  }

  private begin(item: WorkItem): void {
    const key = attemptKey(item);
    if (this.held.has(key)) return;
    const held: Held = { abort: new AbortController(), runningSince: undefined };
    let released = false;
    // Room to take more frees when the task has run, not when its outcome has committed: the
    // next claim can then share a commit with this outcome instead of waiting for it.
    const release = () => {
      if (released) return;
      released = true;
      this.held.delete(key);
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
      () => this.runAttempt(item, held, release),
    )
      .catch((error) => {
        this.options.log.error('attempt crashed', { error: String(error) });
      })
      .finally(() => {
        release();
        this.reporting.delete(done);
      });
    this.held.set(key, held);
    this.reporting.add(done);
  }

  /**
   * Runs one attempt inside its attempt span when tracing is on: a child of the dispatch span
   * whose traceparent the work item carries; the attempt's events carry the attempt span's.
   */
  private async runAttempt(item: WorkItem, held: Held, release: () => void): Promise<void> {
    if (!tracingEnabled()) {
      await this.attempt(item, held, release, undefined);
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
      const settled = await this.attempt(item, held, release, traceparentOf(span));
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
    held: Held,
    release: () => void,
    traceparent: string | undefined,
  ): Promise<{ outcome: string; failure?: Failure | undefined }> {
    const { log, store } = this.options;
    const { abort } = held;
    const stream = streams.attempt(item.runId, item.taskId, item.attempt);
    const metadata = {
      correlationId: item.runId,
      causationId: attemptKey(item),
      actor: `worker:${this.id}`,
      ...(traceparent ? { traceparent } : {}),
    };
    const ref = { runId: item.runId, taskId: item.taskId, attempt: item.attempt };
    // With claim-ahead on, any claim may have to wait for a slot (an earlier claim can take the
    // one that was free), so every claim carries the bound the leader adds to its deadline.
    const startWithinMs = this.claimAhead.enabled ? this.claimAhead.startWithinMs : undefined;
    const claimedAt = performance.now();
    try {
      const claim: NewEvent = {
        id: randomUUID(),
        type: 'AttemptStarted',
        data: {
          ...ref,
          workerId: this.id,
          startedAt: new Date().toISOString(),
          ...(startWithinMs !== undefined ? { startWithinMs } : {}),
        },
        metadata,
      };
      await appendDurably(store, log, stream, claim, 'no_stream', abort.signal);
    } catch (error) {
      if (error instanceof ConcurrencyError) {
        log.info('attempt already claimed elsewhere; dropped');
        return { outcome: 'not_claimed' };
      }
      throw error;
    }
    const grant: SlotGrant = this.draining
      ? 'withdrawn'
      : await this.slots.acquire(claimedAt + (startWithinMs ?? Number.POSITIVE_INFINITY));
    if (grant !== 'granted') return this.releaseUnstarted(item, ref, metadata, grant, release);
    if (abort.signal.reason instanceof CancelAbort) {
      // The leader abandoned it while it waited for a slot (a cancelled run): nothing to run.
      this.slots.release();
      this.options.onAttemptEnd?.({ taskType: item.task.type, outcome: 'dropped', durationMs: 0 });
      return { outcome: 'dropped' };
    }
    held.runningSince = performance.now();
    let result: ExecutionResult;
    try {
      result = await executeAttempt(item, abort.signal, this.options);
    } finally {
      this.slots.release();
    }
    this.claimAhead.executed(result.durationMs);
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
    const settled = await this.close(item, { id: randomUUID(), ...outcome, metadata }, result.durationMs);
    return settled === 'refused'
      ? { outcome: 'refused' }
      : { outcome: outcome.type, failure: 'failure' in outcome.data ? outcome.data.failure : undefined };
  }

  /** Hands back a claimed attempt that never started (no slot in time, or the worker drains). */
  private async releaseUnstarted(
    item: WorkItem,
    ref: AttemptRef,
    metadata: NewEvent['metadata'],
    grant: Exclude<SlotGrant, 'granted'>,
    release: () => void,
  ): Promise<{ outcome: string }> {
    const reason =
      grant === 'expired'
        ? `no slot freed within ${this.claimAhead.startWithinMs} ms of the claim`
        : 'the worker is shutting down';
    const data = { ...ref, releasedAt: new Date().toISOString(), reason };
    release();
    const event: NewEvent = { id: randomUUID(), type: 'AttemptReleased', data, metadata };
    const settled = await this.close(item, event, 0);
    return { outcome: settled === 'refused' ? 'refused' : 'AttemptReleased' };
  }

  /**
   * Appends the event that closes the attempt, expecting revision 0 (invariant 2); `refused`
   * when the leader closed it first (cancelled, timed out, worker presumed lost).
   */
  private async close(item: WorkItem, event: NewEvent, durationMs: number): Promise<'appended' | 'refused'> {
    const { log, store, onAttemptEnd } = this.options;
    try {
      await appendDurably(store, log, streams.attempt(item.runId, item.taskId, item.attempt), event, 0);
      if (log.isInfoEnabled()) log.info('attempt finished', { outcome: event.type, durationMs });
      onAttemptEnd?.({ taskType: item.task.type, outcome: event.type, durationMs });
      return 'appended';
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      onAttemptEnd?.({ taskType: item.task.type, outcome: 'refused', durationMs });
      log.warn('attempt outcome refused: already decided', { outcome: event.type });
      return 'refused';
    }
  }
}

/** The reason a poll's wait is cut short (a constant: an abort without one builds a DOMException). */
const WAKE = new Error('wake up');

class DrainAbort extends Error {}
class CancelAbort extends Error {}

const drainFailure: Failure = {
  kind: 'worker_lost',
  message: 'the worker shut down before the attempt finished',
};
