/**
 * Executing one claimed attempt that holds a slot: give it a scratch directory if it runs a
 * process, hand it the outputs its upstream tasks published, run it through the executor, store
 * its logs, and turn a crash inside the worker into an `internal` failure, so that every claimed
 * attempt ends with a result to append. Claiming, slots and the closing event are the worker
 * runtime's (worker.ts).
 */

import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { streams } from '../events/schemas/index.js';
import type { EventStore } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import type { WorkItem } from '../scheduler/work-source.js';
import type { AttemptLogStore } from './attempt-logs.js';
import { durably } from './durable.js';
import { toExecutableTask } from './executable-task.js';
import type { ExecutionResult, TaskExecutor } from './executors/types.js';
import { makeScratchDir } from './scratch-dirs.js';

/** What executing an attempt needs from the worker that claimed it. */
export interface AttemptExecutionContext {
  readonly store: EventStore;
  readonly executor: TaskExecutor;
  readonly logs: AttemptLogStore;
  readonly log: Logger;
  /** Where relative scripts and working directories resolve (the DAG folder, or a scripts dir). */
  readonly baseDir: string;
  readonly pythonInterpreter?: string;
  readonly killGraceMs?: number;
}

/** Runs a claimed attempt that holds a slot; failures inside the worker become its result. */
export async function executeAttempt(
  item: WorkItem,
  signal: AbortSignal,
  context: AttemptExecutionContext,
): Promise<ExecutionResult> {
  const { log } = context;
  const ref = { runId: item.runId, taskId: item.taskId, attempt: item.attempt };
  // Formatting a log line costs even when no transport keeps it: ask first on this hot path.
  if (log.isInfoEnabled()) log.info('attempt started', { type: item.task.type });
  // Only processes write an output file; other task types need no scratch directory.
  const needsDir = item.task.type === 'shell' || item.task.type === 'python';
  const outputDir = needsDir ? await makeScratchDir() : noOutputDir;
  const started = performance.now();
  try {
    const result = await context.executor.execute({
      ...ref,
      task: toExecutableTask(item.task),
      params: item.params,
      // A noop reads nothing: no need to fetch what its upstream tasks published.
      upstream:
        item.task.type === 'noop'
          ? {}
          : await durably(log, 'reading upstream outputs', () => upstreamOutputs(context.store, item)),
      timeoutMs: item.task.timeoutMs,
      killGraceMs: context.killGraceMs ?? 5000,
      baseDir: context.baseDir,
      pythonInterpreter: context.pythonInterpreter ?? 'python3',
      signal,
      outputDir,
    });
    // Stored before the outcome, so a finished attempt always has its logs; silence costs nothing.
    if (result.stdout.totalBytes + result.stderr.totalBytes > 0) {
      const logs = { stdout: result.stdout, stderr: result.stderr };
      await durably(log, 'storing attempt logs', () => context.logs.save(ref, logs));
    }
    return result;
  } catch (error) {
    // Claimed attempts always get an outcome: an attempt left "running" on a live worker would
    // hold its run until the leader's deadline. Failed here, it is retried by policy.
    log.error('attempt failed inside the worker', { error: String(error) });
    return internalFailure(error, performance.now() - started);
  } finally {
    if (needsDir) await rm(outputDir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Reads the published output of each upstream attempt named in the work item. */
async function upstreamOutputs(store: EventStore, item: WorkItem): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    Object.entries(item.upstream).map(async ([taskId, attempt]) => {
      const events = await store.readStream(streams.attempt(item.runId, taskId, attempt));
      const succeeded = events.find((e) => e.type === 'AttemptSucceeded');
      return [taskId, (succeeded?.data as { output?: unknown } | undefined)?.output ?? null] as const;
    }),
  );
  return Object.fromEntries(entries);
}

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
