/**
 * Properties of the run state machine over random DAGs and random orders of worker outcomes,
 * some attempts claimed ahead of a slot and released unstarted:
 * - any interleaving of independent attempt outcomes gives the same final states;
 * - releases change no final state (they are not tries);
 * - no task is queued before its trigger rule holds;
 * - attempt numbers of a task never repeat and count up from 1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AttemptEvent, RunEvent } from '../../../src/events/schemas/index.js';
import { decide } from '../../../src/scheduler/core/decide.js';
import { evolve } from '../../../src/scheduler/core/evolve.js';
import { initialRunState, type RunState, verdictOf } from '../../../src/scheduler/core/state.js';
import {
  claimedAhead,
  ctx,
  exit1,
  failed,
  plan,
  randomDag,
  released,
  requested,
  started,
  succeeded,
  type TaskSketch,
} from './fixtures.js';

interface Scenario {
  readonly tasks: TaskSketch[];
  /** Per task: how many tries fail before one succeeds (≥ maxAttempts: it never succeeds). */
  readonly failures: number[];
  /** Per task: which of its attempts (1-based index) are claimed ahead and released unstarted. */
  readonly releases: boolean[][];
  /** Per task: the start window its attempts are claimed with; undefined: started at the claim. */
  readonly startWithinMs: (number | undefined)[];
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    tasks: randomDag(n, 3),
    failures: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    releases: fc.array(fc.array(fc.boolean(), { maxLength: 5 }), { minLength: n, maxLength: n }),
    startWithinMs: fc.array(fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }), {
      minLength: n,
      maxLength: n,
    }),
  }),
);

interface Trace {
  readonly finalStatuses: Record<string, string>;
  readonly runStatus: string;
  readonly queued: { taskId: string; attempt: number }[];
  readonly earlyStarts: string[];
}

/**
 * Plays a run to the end. `pick` chooses which in-flight attempt reports next — the
 * interleaving under test. Decisions are folded as a leader would: decide, append, fold.
 */
function play(s: Scenario, pick: (n: number) => number): Trace {
  const state: RunState = initialRunState('run-1', plan(...s.tasks));
  const fold = (e: RunEvent) => evolve(state, { ...e, revision: state.revision + 1 });
  fold(requested());
  const queued: Trace['queued'] = [];
  const earlyStarts: string[] = [];
  const inFlight: { taskId: string; attempt: number }[] = [];
  const tries = new Map<string, number>();
  for (let step = 0; step < 500; step++) {
    // One decide step at a time, so each TaskQueued is checked against the state it was decided on.
    for (;;) {
      const snapshot = new Map([...state.tasks].map(([id, t]) => [id, verdictOf(t)]));
      const d = decide(state, ctx());
      for (const e of d.events) {
        fold(e);
        if (e.type === 'TaskQueued') {
          queued.push({ taskId: e.data.taskId, attempt: e.data.attempt });
          inFlight.push({ taskId: e.data.taskId, attempt: e.data.attempt });
          // A first attempt must have had a `run` verdict; retries re-run a task already allowed.
          if (e.data.attempt === 1 && snapshot.get(e.data.taskId) !== 'run') earlyStarts.push(e.data.taskId);
        }
      }
      if (d.events.length === 0) break;
    }
    if (inFlight.length === 0) break;
    const [next] = inFlight.splice(pick(inFlight.length), 1);
    if (!next) break;
    const index = Number(next.taskId.slice(1));
    if (s.releases[index]?.[next.attempt - 1]) {
      evolve(state, claimedAhead(next.taskId, next.attempt, s.startWithinMs[index] ?? 0));
      evolve(state, released(next.taskId, next.attempt));
      continue;
    }
    // Whether a try succeeds depends on the tries before it, not on its attempt number.
    const tried = (tries.get(next.taskId) ?? 0) + 1;
    tries.set(next.taskId, tried);
    const outcome: AttemptEvent =
      tried > (s.failures[index] ?? 0)
        ? succeeded(next.taskId, next.attempt)
        : failed(next.taskId, exit1, next.attempt);
    const within = s.startWithinMs[index];
    evolve(
      state,
      within === undefined
        ? started(next.taskId, next.attempt)
        : claimedAhead(next.taskId, next.attempt, within),
    );
    evolve(state, outcome);
  }
  return {
    finalStatuses: Object.fromEntries([...state.tasks].map(([id, t]) => [id, t.status])),
    runStatus: state.status,
    queued,
    earlyStarts,
  };
}

describe('run state machine properties', () => {
  it('reaches the same final states whatever order independent outcomes arrive in', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), (s, choices) => {
        const inOrder = play(s, () => 0);
        const shuffled = play(s, (n) => (choices.next().value as number) % n);
        expect(shuffled.finalStatuses).toEqual(inOrder.finalStatuses);
        expect(shuffled.runStatus).toEqual(inOrder.runStatus);
        expect(['succeeded', 'failed']).toContain(inOrder.runStatus);
      }),
      { numRuns: 1000 },
    );
  });

  it('ends the same whether or not attempts were released on the way', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), (s, choices) => {
        const withReleases = play(s, (n) => (choices.next().value as number) % n);
        const without = play({ ...s, releases: s.releases.map(() => []) }, () => 0);
        expect(withReleases.finalStatuses).toEqual(without.finalStatuses);
        expect(withReleases.runStatus).toEqual(without.runStatus);
      }),
      { numRuns: 1000 },
    );
  });

  it('never queues a task before its trigger rule holds', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), (s, choices) => {
        expect(play(s, (n) => (choices.next().value as number) % n).earlyStarts).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });

  it('never repeats an attempt number: each task counts 1, 2, 3…', () => {
    fc.assert(
      fc.property(scenario, fc.infiniteStream(fc.nat()), (s, choices) => {
        const { queued } = play(s, (n) => (choices.next().value as number) % n);
        const byTask = new Map<string, number[]>();
        for (const q of queued) byTask.set(q.taskId, [...(byTask.get(q.taskId) ?? []), q.attempt]);
        for (const attempts of byTask.values()) {
          expect(attempts).toEqual(attempts.map((_, i) => i + 1));
        }
      }),
      { numRuns: 1000 },
    );
  });
});
