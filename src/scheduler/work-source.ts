/**
 * The boundary between the scheduler's dispatcher and the workers. In one process the
 * dispatcher implements it directly; a network transport (HTTP long-poll) implements the same
 * interface for workers in other processes.
 */
import type { NormalizedTask } from '../dag/index.js';

/** One queued attempt, with everything a worker needs to claim and run it. */
export interface WorkItem {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly dagId: string;
  readonly dagVersion: number;
  /** The task as the DAG version defines it (templates not yet rendered). */
  readonly task: NormalizedTask;
  readonly labels: readonly string[];
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** For each upstream task that succeeded: the attempt whose output it published. */
  readonly upstream: Readonly<Record<string, number>>;
  /** The leader's term when it queued the attempt (for tracing and logs). */
  readonly term: number;
  /** The W3C traceparent of the dispatch span that queued it (tracing on): the attempt span's parent. */
  readonly traceparent?: string | undefined;
}

export interface AttemptRef {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
}

export function attemptKey(ref: AttemptRef): string {
  return `${ref.runId}/${ref.taskId}/${ref.attempt}`;
}

export interface WorkerInfo {
  readonly id: string;
  /** Slots: how many attempts it runs at once. */
  readonly capacity: number;
  readonly labels: readonly string[];
}

export interface PollResult {
  readonly items: WorkItem[];
  /** Attempts of this worker the leader abandoned (cancelled run, deadline): kill them. */
  readonly cancel: AttemptRef[];
}

export interface PollOptions {
  /** Longest wait for work when there is none (long poll). */
  readonly waitMs: number;
  readonly signal?: AbortSignal;
}

export interface WorkSource {
  join(worker: WorkerInfo): Promise<void>;
  leave(workerId: string): Promise<void>;
  /** Up to `credits` items (the worker's free slots); waits up to `waitMs` when there are none. */
  poll(workerId: string, credits: number, options: PollOptions): Promise<PollResult>;
}
