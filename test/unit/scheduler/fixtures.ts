/** Builders for scheduler tests: plans, events with revisions, and a decide context. */
import fc from 'fast-check';
import type { AttemptEvent, RunEvent } from '../../../src/events/schemas/index.js';
import type { Failure } from '../../../src/events/schemas/metadata.js';
import { type DecideContext, decideUntilStable } from '../../../src/scheduler/core/decide.js';
import { evolve, type SchedulerEvent } from '../../../src/scheduler/core/evolve.js';
import {
  createPlan,
  type RetryPolicy,
  type RunPlan,
  type TriggerRule,
  triggerRules,
} from '../../../src/scheduler/core/plan.js';
import { initialRunState, type RunState } from '../../../src/scheduler/core/state.js';

export const RUN = 'run-1';
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const iso = (ms: number) => new Date(ms).toISOString();

export const noRetry: RetryPolicy = {
  maxAttempts: 1,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 'none',
};

export interface TaskSketch {
  readonly id: string;
  readonly deps?: string[];
  readonly rule?: TriggerRule;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
}

export function plan(...tasks: TaskSketch[]): RunPlan {
  return createPlan(
    tasks.map((t) => ({
      id: t.id,
      dependencies: t.deps ?? [],
      triggerRule: t.rule ?? 'all_success',
      retry: { ...noRetry, ...t.retry },
      timeoutMs: t.timeoutMs ?? 60_000,
    })),
  );
}

export const ctx = (overrides: Partial<DecideContext> = {}): DecideContext => ({
  now: T0,
  term: 1,
  budget: Number.POSITIVE_INFINITY,
  abandonGraceMs: 5_000,
  ...overrides,
});

/** Folds run events (revisions assigned in order) and attempt events into a fresh state. */
export function given(runPlan: RunPlan, events: (RunEvent | AttemptEvent)[]): RunState {
  const state = initialRunState(RUN, runPlan);
  let revision = -1;
  for (const event of events) {
    const isAttempt = event.type.startsWith('Attempt');
    evolve(
      state,
      isAttempt ? (event as AttemptEvent) : ({ ...event, revision: ++revision } as SchedulerEvent),
    );
  }
  return state;
}

export const requested = (params: Record<string, string> = {}): RunEvent => ({
  type: 'RunRequested',
  data: { runId: RUN, dagId: 'dag', dagVersion: 1, params, requestedAt: iso(T0) },
});
export const queued = (taskId: string, attempt = 1, at = T0): RunEvent => ({
  type: 'TaskQueued',
  data: { taskId, attempt, term: 1, queuedAt: iso(at) },
});
export const started = (taskId: string, attempt = 1, at = T0, workerId = 'w1'): AttemptEvent => ({
  type: 'AttemptStarted',
  data: { runId: RUN, taskId, attempt, workerId, startedAt: iso(at) },
});
/** Claimed ahead of a free slot: started within `startWithinMs` of the claim, or released. */
export const claimedAhead = (taskId: string, attempt = 1, startWithinMs = 500, at = T0): AttemptEvent => ({
  type: 'AttemptStarted',
  data: { runId: RUN, taskId, attempt, workerId: 'w1', startedAt: iso(at), startWithinMs },
});
export const released = (taskId: string, attempt = 1, at = T0): AttemptEvent => ({
  type: 'AttemptReleased',
  data: { runId: RUN, taskId, attempt, releasedAt: iso(at), reason: 'no free slot in time' },
});
export const succeeded = (taskId: string, attempt = 1, at = T0): AttemptEvent => ({
  type: 'AttemptSucceeded',
  data: { runId: RUN, taskId, attempt, finishedAt: iso(at), durationMs: 1 },
});
export const failed = (taskId: string, failure: Failure, attempt = 1, at = T0): AttemptEvent => ({
  type: 'AttemptFailed',
  data: { runId: RUN, taskId, attempt, finishedAt: iso(at), durationMs: 1, failure },
});
export const exit1: Failure = { kind: 'exit_code', message: 'exit 1', exitCode: 1 };

/** Runs a task to success: queued (if needed) → started → succeeded. */
export function ran(taskId: string, attempt = 1): (RunEvent | AttemptEvent)[] {
  return [queued(taskId, attempt), started(taskId, attempt), succeeded(taskId, attempt)];
}

export function statuses(state: RunState): Record<string, string> {
  return Object.fromEntries([...state.tasks].map(([id, t]) => [id, t.status]));
}

export { decideUntilStable };

/**
 * A random DAG of `n` tasks `t0…t{n-1}` for properties: each depends on a random subset of the
 * tasks before it, with a random trigger rule and 1 to `maxAttempts` attempts, retried at once.
 */
export function randomDag(n: number, maxAttempts: number): fc.Arbitrary<TaskSketch[]> {
  return fc
    .tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          deps: fc.subarray(Array.from({ length: i }, (_, j) => `t${j}`)),
          rule: fc.constantFrom<TriggerRule>(...triggerRules),
          maxAttempts: fc.integer({ min: 1, max: maxAttempts }),
        }),
      ),
    )
    .map((ts) =>
      ts.map(
        (t, i): TaskSketch => ({
          id: `t${i}`,
          deps: t.deps,
          rule: t.rule,
          retry: { maxAttempts: t.maxAttempts, initialDelayMs: 0, jitter: 'none' },
        }),
      ),
    );
}
