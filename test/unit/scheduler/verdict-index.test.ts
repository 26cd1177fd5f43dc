/**
 * The verdict index of the run state (state.ts: `runnable` and `settleable`) against the trigger
 * rules evaluated from scratch. Random DAGs with every trigger rule, random budgets, random
 * outcomes (releases of claimed-ahead attempts among them), DLQ retries and cancellations: after
 * every event folded, the index holds exactly the
 * pending tasks of each verdict, and every decide step queues as many runnable tasks as its
 * budget allows and settles every settleable one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttemptEvent, RunEvent } from '../../../src/events/schemas/index.js';
import { decide } from '../../../src/scheduler/core/decide.js';
import { evolve, type SchedulerEvent } from '../../../src/scheduler/core/evolve.js';
import {
  initialRunState,
  isRunFinished,
  type RunState,
  verdictOf,
} from '../../../src/scheduler/core/state.js';
import {
  claimedAhead,
  ctx,
  exit1,
  failed,
  iso,
  plan,
  randomDag,
  released,
  requested,
  started,
  succeeded,
  T0,
  type TaskSketch,
} from './fixtures.js';

type Outcome = 'succeeded' | 'failed' | 'released';

interface Scenario {
  readonly tasks: TaskSketch[];
  /** One choice per step: which in-flight attempt reports, how, and what else happens. */
  readonly steps: {
    pick: number;
    outcome: Outcome;
    /** The start window of a claim ahead of a slot; undefined: started at the claim. */
    startWithinMs: number | undefined;
    budget: number;
    requeue: boolean;
    cancel: boolean;
  }[];
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    tasks: randomDag(n, 2),
    steps: fc.array(
      fc.record({
        pick: fc.nat(),
        outcome: fc.constantFrom<Outcome>('succeeded', 'failed', 'released'),
        startWithinMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
        budget: fc.integer({ min: 0, max: 4 }),
        requeue: fc.boolean(),
        cancel: fc.integer({ min: 0, max: 40 }).map((x) => x === 0),
      }),
      { minLength: 1, maxLength: 60 },
    ),
  }),
);

/** The index as it must be: pending tasks by the verdict of their trigger rule, from scratch. */
function expectIndexed(state: RunState): void {
  const runnable = new Set<string>();
  const settleable = new Set<string>();
  if (state.dagId !== undefined) {
    for (const [id, t] of state.tasks) {
      if (t.status !== 'pending') continue;
      const verdict = verdictOf(t);
      if (verdict === 'run') runnable.add(id);
      else if (verdict !== 'wait') settleable.add(id);
    }
  }
  expect(new Set(state.runnable)).toEqual(runnable);
  expect(new Set(state.settleable)).toEqual(settleable);
}

function play(s: Scenario): void {
  const state = initialRunState('run-1', plan(...s.tasks));
  const foldRun = (e: RunEvent) => {
    evolve(state, { ...e, revision: state.revision + 1 } as SchedulerEvent);
    expectIndexed(state);
  };
  const foldAttempt = (e: AttemptEvent) => {
    evolve(state, e);
    expectIndexed(state);
  };
  expectIndexed(state);
  foldRun(requested());
  const inFlight: { taskId: string; attempt: number }[] = [];
  for (const step of s.steps) {
    if (isRunFinished(state.status) && !step.requeue) continue;
    // Decide one step at a time with a small budget, checking what each step takes.
    for (;;) {
      const runnable = state.runnable.size;
      const settleable = state.settleable.size;
      const d = decide(state, ctx({ budget: step.budget }));
      const firstQueued = d.events.filter(
        (e) => e.type === 'TaskQueued' && state.tasks.get(e.data.taskId)?.status === 'pending',
      ).length;
      const retries = d.events.filter(
        (e) => e.type === 'TaskQueued' && state.tasks.get(e.data.taskId)?.status === 'retry_wait',
      ).length;
      if (!state.cancelRequested && !isRunFinished(state.status)) {
        expect(firstQueued).toBe(Math.min(runnable, Math.max(0, step.budget - retries)));
        const settled = d.events.filter((e) => e.type === 'TaskSkipped' || e.type === 'TaskUpstreamFailed');
        expect(settled.length).toBe(settleable);
      }
      for (const e of d.events) {
        foldRun(e);
        if (e.type === 'TaskQueued') inFlight.push({ taskId: e.data.taskId, attempt: e.data.attempt });
      }
      for (const order of d.abandon) {
        foldAttempt({
          type: 'AttemptAbandoned',
          data: { runId: 'run-1', ...order, abandonedAt: iso(T0) },
        });
      }
      if (d.events.length === 0) break;
    }
    if (step.cancel && !isRunFinished(state.status)) {
      foldRun({ type: 'RunCancelRequested', data: { requestedAt: iso(T0) } });
      continue;
    }
    if (step.requeue) {
      const dead = [...state.tasks.values()].find((t) => t.status === 'dead_lettered' && t.openDeadLetter);
      if (dead) foldRun({ type: 'TaskRequeued', data: { taskId: dead.plan.id, requeuedAt: iso(T0) } });
    }
    if (inFlight.length === 0) continue;
    const [next] = inFlight.splice(step.pick % inFlight.length, 1);
    if (!next) continue;
    const { taskId, attempt } = next;
    // Only an attempt claimed ahead of a slot can be released.
    const within = step.outcome === 'released' ? (step.startWithinMs ?? 0) : step.startWithinMs;
    foldAttempt(within === undefined ? started(taskId, attempt) : claimedAhead(taskId, attempt, within));
    switch (step.outcome) {
      case 'succeeded':
        foldAttempt(succeeded(taskId, attempt));
        break;
      case 'failed':
        foldAttempt(failed(taskId, exit1, attempt));
        break;
      case 'released':
        foldAttempt(released(taskId, attempt));
        break;
      default: {
        const never: never = step.outcome;
        throw new Error(`unknown outcome ${String(never)}`);
      }
    }
  }
}

describe('the verdict index of a run', () => {
  it('holds exactly the pending tasks of each verdict, and decide takes what the budget allows', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        play(s);
      }),
      { numRuns: 1000 },
    );
  });

  it('costs a budget-less decide nothing per pending task', () => {
    // 10,000 independent tasks, a backlog full: the step visits none of them.
    const tasks = Array.from({ length: 10_000 }, (_, i): TaskSketch => ({ id: `t${i}` }));
    const state = initialRunState('run-1', plan(...tasks));
    evolve(state, { ...requested(), revision: 0 } as SchedulerEvent);
    expect(state.runnable.size).toBe(10_000);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) expect(decide(state, ctx({ budget: 0 })).events).toEqual([]);
    // Scanning the pending tasks took ~1-4 ms per step; the index makes it microseconds.
    expect(performance.now() - started).toBeLessThan(1000);
    const step = decide(state, ctx({ budget: 3 }));
    expect(step.events.map((e) => (e.data as { taskId: string }).taskId)).toEqual(['t0', 't1', 't2']);
  });
});
