/**
 * The state of one run as the scheduler sees it: per task a status, the current attempt, the
 * timers that concern it, and counts of its upstream outcomes (so trigger rules are O(1)).
 *
 * For speed a fold mutates its state in place (a run can have 10,000 tasks, and copying them on
 * every event would make a run quadratic). `evolve` is still a pure function of (state, event):
 * no I/O, no clock. Callers that need the old state fold a fresh one.
 */
import type { Failure } from '../../events/schemas/metadata.js';
import type { ParamValue } from '../../events/schemas/run.js';
import type { PlannedTask, RunPlan } from './plan.js';
import { evaluateTrigger, type TriggerVerdict } from './trigger-rules.js';

export type TaskStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'retry_wait'
  | 'succeeded'
  | 'dead_lettered'
  | 'upstream_failed'
  | 'skipped'
  | 'cancelled';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface TaskState {
  readonly plan: PlannedTask;
  status: TaskStatus;
  /** The latest attempt number queued for this task; 0 before the first. */
  attempt: number;
  /** The failure of the current attempt, reported but not yet decided on (retry or dead-letter). */
  undecidedFailure: Failure | undefined;
  lastFailure: Failure | undefined;
  /** When a retry is due (epoch ms), in retry_wait. */
  retryAt: number | undefined;
  /** When the current attempt was claimed (epoch ms, the worker's clock); its deadline derives from it. */
  startedAt: number | undefined;
  /** How long after `startedAt` a claimed-ahead current attempt may wait for a slot; 0 when not. */
  startWithinMs: number;
  workerId: string | undefined;
  /** Attempts of this task its workers released unstarted: numbered, but not tries. */
  released: number;
  /** The attempt whose output downstream tasks read. */
  succeededAttempt: number | undefined;
  /** Set by a DLQ retry: queue the task whatever its trigger rule says. */
  forced: boolean;
  /** A dead-letter item that is still open (not retried, not discarded). */
  openDeadLetter: boolean;
  upstream: { succeeded: number; failed: number; skipped: number };
}

export interface RunState {
  readonly runId: string;
  readonly plan: RunPlan;
  dagId: string | undefined;
  dagVersion: number | undefined;
  params: Record<string, ParamValue>;
  status: RunStatus;
  cancelRequested: boolean;
  /** Revision of the last run-stream event folded; -1 for none. Decisions expect it. */
  revision: number;
  /** Highest scheduler term seen in the run stream; a leader with a lower one must step down. */
  term: number;
  readonly tasks: Map<string, TaskState>;
  /**
   * Pending tasks whose trigger rule says `run`, in the order they became ready: `decide` queues
   * from the front as far as the budget goes, and visits none of them when there is no budget.
   */
  readonly runnable: Set<string>;
  /** Pending tasks whose trigger rule says `skip` or `upstream_failed`: decided at the next step. */
  readonly settleable: Set<string>;
  /** Tasks with a live attempt: running, or started on a worker while queued. */
  readonly running: Set<string>;
  readonly retryWaiting: Set<string>;
  /** Attempts started that the run does not expect (stale, or after cancellation): to abandon. */
  readonly strays: Map<string, { taskId: string; attempt: number }>;
  terminalCount: number;
}

const terminal: ReadonlySet<TaskStatus> = new Set([
  'succeeded',
  'dead_lettered',
  'upstream_failed',
  'skipped',
  'cancelled',
]);

export function isTerminal(status: TaskStatus): boolean {
  return terminal.has(status);
}

export function isRunFinished(status: RunStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

type Outcome = 'succeeded' | 'failed' | 'skipped' | undefined;

function outcomeOf(status: TaskStatus): Outcome {
  switch (status) {
    case 'succeeded':
      return 'succeeded';
    case 'dead_lettered':
    case 'upstream_failed':
    case 'cancelled':
      return 'failed';
    case 'skipped':
      return 'skipped';
    case 'pending':
    case 'queued':
    case 'running':
    case 'retry_wait':
      return undefined;
    default: {
      const never: never = status;
      return never;
    }
  }
}

export function initialRunState(runId: string, plan: RunPlan): RunState {
  const tasks = new Map<string, TaskState>();
  for (const p of plan.tasks) {
    tasks.set(p.id, {
      plan: p,
      status: 'pending',
      attempt: 0,
      undecidedFailure: undefined,
      lastFailure: undefined,
      retryAt: undefined,
      startedAt: undefined,
      startWithinMs: 0,
      workerId: undefined,
      released: 0,
      succeededAttempt: undefined,
      forced: false,
      openDeadLetter: false,
      upstream: { succeeded: 0, failed: 0, skipped: 0 },
    });
  }
  return {
    runId,
    plan,
    dagId: undefined,
    dagVersion: undefined,
    params: {},
    status: 'queued',
    cancelRequested: false,
    revision: -1,
    term: 0,
    tasks,
    runnable: new Set(),
    settleable: new Set(),
    running: new Set(),
    retryWaiting: new Set(),
    strays: new Map(),
    terminalCount: 0,
  };
}

export function verdictOf(task: TaskState): TriggerVerdict {
  if (task.forced) return 'run';
  return evaluateTrigger(task.plan.triggerRule, { total: task.plan.dependencies.length, ...task.upstream });
}

/**
 * Files a task under its verdict (runnable, settleable, or neither). Called whenever something a
 * verdict depends on changes — the task's status, its upstream counts, `forced`, the run's DAG —
 * so `decide` never has to evaluate the trigger rule of a task that is still waiting.
 */
export function refreshCandidate(state: RunState, task: TaskState): void {
  const id = task.plan.id;
  const verdict = task.status === 'pending' && state.dagId !== undefined ? verdictOf(task) : 'wait';
  switch (verdict) {
    case 'run':
      state.settleable.delete(id);
      state.runnable.add(id);
      return;
    case 'skip':
    case 'upstream_failed':
      state.runnable.delete(id);
      state.settleable.add(id);
      return;
    case 'wait':
      state.runnable.delete(id);
      state.settleable.delete(id);
      return;
    default: {
      const never: never = verdict;
      throw new Error(`unknown verdict ${String(never)}`);
    }
  }
}

/**
 * The one way a task's status changes: keeps the downstream counts, the terminal count and the
 * verdict, running and retry sets in step with it.
 */
export function setStatus(state: RunState, task: TaskState, next: TaskStatus): void {
  const previous = task.status;
  if (previous === next) return;
  task.status = next;
  const before = outcomeOf(previous);
  const after = outcomeOf(next);
  if (before !== after) {
    for (const id of task.plan.downstream) {
      const down = state.tasks.get(id);
      if (!down) continue;
      if (before) down.upstream[before]--;
      if (after) down.upstream[after]++;
      refreshCandidate(state, down);
    }
  }
  state.terminalCount += (isTerminal(next) ? 1 : 0) - (isTerminal(previous) ? 1 : 0);
  if (next === 'running') state.running.add(task.plan.id);
  else state.running.delete(task.plan.id);
  if (next === 'retry_wait') state.retryWaiting.add(task.plan.id);
  else state.retryWaiting.delete(task.plan.id);
  refreshCandidate(state, task);
}
