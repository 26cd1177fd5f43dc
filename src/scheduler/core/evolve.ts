/**
 * evolve: fold one run or attempt event into a run's state. Pure (no I/O, no clock); mutates
 * and returns the state it is given (see state.ts for why).
 *
 * Events can arrive twice — the leader applies its own decisions as soon as they are appended,
 * then reads them again from the subscription — so every case is idempotent: a run event at or
 * below the folded revision is ignored, and an attempt event that does not match the task's
 * current attempt and status changes nothing (or is tracked as a stray attempt to abandon).
 */
import type { AttemptEvent, RunEvent } from '../../events/schemas/index.js';
import type { Failure } from '../../events/schemas/metadata.js';
import {
  isRunFinished,
  isTerminal,
  type RunState,
  refreshCandidate,
  setStatus,
  type TaskState,
} from './state.js';

/** A run-stream event with its revision, or an attempt event. */
export type SchedulerEvent = (RunEvent & { readonly revision: number }) | AttemptEvent;

export function evolve(state: RunState, event: SchedulerEvent): RunState {
  if ('revision' in event) {
    if (event.revision <= state.revision) return state;
    state.revision = event.revision;
    const term = (event.data as { term?: number }).term;
    if (term !== undefined && term > state.term) state.term = term;
    evolveRun(state, event);
  } else {
    evolveAttempt(state, event);
  }
  return state;
}

function task(state: RunState, taskId: string): TaskState | undefined {
  return state.tasks.get(taskId);
}

function evolveRun(state: RunState, event: RunEvent): void {
  switch (event.type) {
    case 'RunRequested': {
      state.dagId = event.data.dagId;
      state.dagVersion = event.data.dagVersion;
      state.params = event.data.params;
      for (const t of state.tasks.values()) refreshCandidate(state, t);
      return;
    }
    case 'TaskQueued': {
      const t = task(state, event.data.taskId);
      if (!t) return;
      t.attempt = event.data.attempt;
      t.forced = false;
      t.retryAt = undefined;
      t.startedAt = undefined;
      t.startWithinMs = 0;
      t.workerId = undefined;
      t.undecidedFailure = undefined;
      setStatus(state, t, 'queued');
      if (state.status === 'queued') state.status = 'running';
      return;
    }
    case 'TaskSkipped':
      settle(state, event.data.taskId, 'skipped');
      return;
    case 'TaskUpstreamFailed':
      settle(state, event.data.taskId, 'upstream_failed');
      return;
    case 'TaskRetryScheduled': {
      const t = task(state, event.data.taskId);
      if (!t) return;
      t.undecidedFailure = undefined;
      t.lastFailure = event.data.failure;
      t.retryAt = Date.parse(event.data.retryAt);
      setStatus(state, t, 'retry_wait');
      return;
    }
    case 'TaskDeadLettered': {
      const t = task(state, event.data.taskId);
      if (!t) return;
      t.undecidedFailure = undefined;
      t.lastFailure = event.data.failure;
      t.openDeadLetter = true;
      setStatus(state, t, 'dead_lettered');
      return;
    }
    case 'TaskRequeued':
      requeue(state, event.data.taskId);
      return;
    case 'DeadLetterDiscarded': {
      const t = task(state, event.data.taskId);
      if (t) t.openDeadLetter = false;
      return;
    }
    case 'RunCancelRequested':
      state.cancelRequested = true;
      return;
    case 'RunSucceeded':
      state.status = 'succeeded';
      return;
    case 'RunFailed':
      state.status = 'failed';
      return;
    case 'RunCancelled':
      state.status = 'cancelled';
      for (const t of state.tasks.values()) if (!isTerminal(t.status)) setStatus(state, t, 'cancelled');
      return;
    default:
      assertNever(event);
  }
}

function settle(state: RunState, taskId: string, status: 'skipped' | 'upstream_failed'): void {
  const t = task(state, taskId);
  if (t && t.status === 'pending') setStatus(state, t, status);
}

/**
 * A DLQ retry: the task is queued again (a new attempt, whatever its trigger rule says), every
 * downstream task that failed because of it goes back to pending, and a failed run runs again.
 */
function requeue(state: RunState, taskId: string): void {
  const t = task(state, taskId);
  if (t?.status !== 'dead_lettered') return;
  t.openDeadLetter = false;
  t.forced = true;
  setStatus(state, t, 'pending');
  const queue = [...t.plan.downstream];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const down = task(state, queue.pop() as string);
    if (down?.status !== 'upstream_failed') continue;
    setStatus(state, down, 'pending');
    for (const next of down.plan.downstream) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  if (isRunFinished(state.status)) state.status = 'running';
}

function strayKey(taskId: string, attempt: number): string {
  return `${taskId}#${attempt}`;
}

function evolveAttempt(state: RunState, event: AttemptEvent): void {
  const { taskId, attempt } = event.data;
  const t = task(state, taskId);
  if (!t) return;
  const current = attempt === t.attempt;
  switch (event.type) {
    case 'AttemptStarted':
      if (current && t.status === 'queued' && !isRunFinished(state.status)) {
        t.startedAt = Date.parse(event.data.startedAt);
        t.startWithinMs = event.data.startWithinMs ?? 0;
        t.workerId = event.data.workerId;
        setStatus(state, t, 'running');
      } else if (!(current && t.status === 'running')) {
        // Claimed after the run moved on (cancelled, or a stale dispatch): the leader abandons it.
        state.strays.set(strayKey(taskId, attempt), { taskId, attempt });
      }
      return;
    case 'AttemptSucceeded':
      if (state.strays.delete(strayKey(taskId, attempt))) return;
      if (current && t.status === 'running' && !t.undecidedFailure) {
        t.succeededAttempt = attempt;
        setStatus(state, t, 'succeeded');
      }
      return;
    case 'AttemptFailed':
    case 'AttemptAbandoned':
      if (state.strays.delete(strayKey(taskId, attempt))) return;
      if (current && t.status === 'running' && !t.undecidedFailure) recordFailure(t, event.data.failure);
      return;
    case 'AttemptReleased':
      if (state.strays.delete(strayKey(taskId, attempt))) return;
      if (current && t.status === 'running' && !t.undecidedFailure) release(state, t);
      return;
    default:
      assertNever(event);
  }
}

/**
 * A claimed attempt handed back unstarted: the task is pending again, to be queued as the next
 * attempt at once (no backoff: nothing failed). It was admitted once already, so it stays
 * admitted (`forced`) — a DLQ retry of an upstream meanwhile must not hold it back, just as it
 * would not have stopped the attempt had it started.
 */
function release(state: RunState, t: TaskState): void {
  t.released++;
  t.startedAt = undefined;
  t.startWithinMs = 0;
  t.workerId = undefined;
  t.forced = true;
  setStatus(state, t, 'pending');
}

function recordFailure(t: TaskState, failure: Failure): void {
  t.undecidedFailure = failure;
  t.lastFailure = failure;
}

function assertNever(value: never): never {
  throw new Error(`unexpected event ${JSON.stringify(value)}`);
}
