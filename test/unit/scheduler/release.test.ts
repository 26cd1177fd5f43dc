/**
 * Released attempts: a worker that claimed an attempt ahead of a free slot (AttemptStarted with
 * `startWithinMs`) and got no slot in time hands it back unstarted (AttemptReleased). Nothing of
 * the task ran, so the task is queued again at once and the release is not a try.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptEvent, RunEvent } from '../../../src/events/schemas/index.js';
import { decide } from '../../../src/scheduler/core/decide.js';
import { evolve } from '../../../src/scheduler/core/evolve.js';
import { hashFraction, retryDelayMs } from '../../../src/scheduler/core/retry-policy.js';
import type { RunState } from '../../../src/scheduler/core/state.js';
import {
  claimedAhead,
  ctx,
  decideUntilStable,
  exit1,
  failed,
  given,
  iso,
  plan,
  queued,
  RUN,
  ran,
  released,
  requested,
  started,
  statuses,
  succeeded,
  T0,
} from './fixtures.js';

/** Folds attempt events, and run events at the next revision. */
function fold(state: RunState, ...events: (RunEvent | AttemptEvent)[]): void {
  for (const e of events) {
    evolve(
      state,
      'runId' in e.data ? (e as AttemptEvent) : { ...(e as RunEvent), revision: state.revision + 1 },
    );
  }
}

/** What a leader's decision step appends, as `type:taskId@attempt`. */
function step(state: RunState, now = T0): string[] {
  return decideUntilStable(state, ctx({ now })).events.map((e) => {
    const data = e.data as { taskId?: string; attempt?: number };
    return [e.type, data.taskId && `:${data.taskId}`, data.attempt && `@${data.attempt}`]
      .filter(Boolean)
      .join('');
  });
}

const abandoned = (taskId: string, attempt: number, kind: 'timeout' | 'cancelled'): AttemptEvent => ({
  type: 'AttemptAbandoned',
  data: { runId: RUN, taskId, attempt, failure: { kind, message: kind }, term: 1, abandonedAt: iso(T0) },
});

describe('run state machine: released attempts', () => {
  it('puts the task back to pending and queues the next attempt at once, without backoff', () => {
    const state = given(plan({ id: 'a', retry: { maxAttempts: 1 } }), [
      requested(),
      queued('a'),
      claimedAhead('a', 1, 2_000),
    ]);
    evolve(state, released('a'));
    const a = state.tasks.get('a');
    expect(a).toMatchObject({
      status: 'pending',
      attempt: 1,
      released: 1,
      startedAt: undefined,
      startWithinMs: 0,
      workerId: undefined,
      forced: true,
    });
    expect(state.running.size).toBe(0);
    expect(decide(state, ctx()).events).toEqual([
      { type: 'TaskQueued', data: { taskId: 'a', attempt: 2, term: 1, queuedAt: iso(T0) } },
    ]);
  });

  it('queues the released task only as far as the budget goes', () => {
    const state = given(plan({ id: 'a' }), [requested(), queued('a'), claimedAhead('a'), released('a')]);
    expect(decide(state, ctx({ budget: 0 })).events).toEqual([]);
    expect([...state.runnable]).toEqual(['a']);
  });

  it('does not count a release as a try: maxAttempts 2 with 3 releases still gets 2 tries', () => {
    const state = given(
      plan({ id: 'a', retry: { maxAttempts: 2, initialDelayMs: 0 } }, { id: 'b', deps: ['a'] }),
      [requested()],
    );
    expect(step(state)).toEqual(['TaskQueued:a@1']);
    fold(state, claimedAhead('a', 1), released('a', 1));
    expect(step(state)).toEqual(['TaskQueued:a@2']);
    fold(state, started('a', 2), failed('a', exit1, 2));
    expect(step(state)).toEqual(['TaskRetryScheduled:a@2', 'TaskQueued:a@3']);
    fold(state, claimedAhead('a', 3), released('a', 3));
    expect(step(state)).toEqual(['TaskQueued:a@4']);
    fold(state, claimedAhead('a', 4), released('a', 4));
    expect(step(state)).toEqual(['TaskQueued:a@5']);
    fold(state, started('a', 5), failed('a', exit1, 5));
    expect(step(state)).toEqual(['TaskDeadLettered:a@5', 'TaskUpstreamFailed:b', 'RunFailed']);
  });

  it('backs off by the number of tries, with jitter still keyed on the attempt number', () => {
    const policy = {
      maxAttempts: 5,
      backoff: 'exponential',
      initialDelayMs: 1000,
      maxDelayMs: 60_000,
      jitter: 'none',
    } as const;
    const state = given(plan({ id: 'a', retry: policy }), [
      requested(),
      queued('a'),
      claimedAhead('a', 1),
      released('a', 1),
      queued('a', 2),
      started('a', 2),
      failed('a', exit1, 2),
    ]);
    // The first try failed: 1000 ms (2^0), not the 2000 ms of a second failed attempt.
    expect(decide(state, ctx()).events).toEqual([
      {
        type: 'TaskRetryScheduled',
        data: { taskId: 'a', attempt: 2, term: 1, failure: exit1, retryAt: iso(T0 + 1000) },
      },
    ]);
    const jittered = given(plan({ id: 'a', retry: { ...policy, jitter: 'full' } }), [
      requested(),
      queued('a'),
      claimedAhead('a', 1),
      released('a', 1),
      queued('a', 2),
      started('a', 2),
      failed('a', exit1, 2),
    ]);
    const u = hashFraction(`${RUN}/a/2`);
    expect(decide(jittered, ctx()).events[0]?.data).toMatchObject({
      retryAt: iso(T0 + retryDelayMs({ ...policy, jitter: 'full' }, 1, u)),
    });
  });

  it('gives a claimed-ahead attempt its start window before the timeout runs', () => {
    const state = given(plan({ id: 'a', timeoutMs: 10_000 }), [
      requested(),
      queued('a'),
      claimedAhead('a', 1, 2_000),
    ]);
    // startedAt + startWithinMs + timeout + grace (5 s)
    expect(decide(state, ctx({ now: T0 + 16_999 }))).toEqual({
      events: [],
      abandon: [],
      wakeAt: T0 + 17_000,
    });
    expect(decide(state, ctx({ now: T0 + 17_000 })).abandon).toEqual([
      {
        taskId: 'a',
        attempt: 1,
        failure: {
          kind: 'timeout',
          message: "no outcome 10000 ms after the attempt's start window of 2000 ms",
        },
      },
    ]);
  });

  it('forgets the start window of the previous attempt when the next is queued', () => {
    const state = given(plan({ id: 'a', retry: { maxAttempts: 2, initialDelayMs: 0 } }), [
      requested(),
      queued('a'),
      claimedAhead('a', 1, 2_000),
      failed('a', exit1),
      {
        type: 'TaskRetryScheduled',
        data: { taskId: 'a', attempt: 1, term: 1, failure: exit1, retryAt: iso(T0) },
      },
    ]);
    expect(state.tasks.get('a')?.startWithinMs).toBe(2_000);
    fold(state, queued('a', 2));
    expect(state.tasks.get('a')?.startWithinMs).toBe(0);
  });

  it('keeps a released task admitted when a DLQ retry of its upstream reopens the run', () => {
    const p = plan({ id: 'a' }, { id: 'cleanup', deps: ['a'], rule: 'all_done' });
    const state = given(p, [requested(), queued('a'), started('a'), failed('a', exit1)]);
    expect(step(state)).toEqual(['TaskDeadLettered:a@1', 'TaskQueued:cleanup@1']);
    fold(state, claimedAhead('cleanup'), {
      type: 'TaskRequeued',
      data: { taskId: 'a', requeuedAt: iso(T0) },
    });
    fold(state, released('cleanup'));
    // a is pending again, so all_done would wait for it; the released cleanup was admitted already.
    expect(step(state)).toEqual(['TaskQueued:a@2', 'TaskQueued:cleanup@2']);
  });

  it('is idempotent: a release seen twice, or after the next attempt is queued, changes nothing', () => {
    const state = given(plan({ id: 'a' }), [requested(), queued('a'), claimedAhead('a'), released('a')]);
    evolve(state, released('a'));
    expect(state.tasks.get('a')).toMatchObject({ status: 'pending', released: 1 });
    fold(state, queued('a', 2), started('a', 2));
    evolve(state, released('a', 1));
    expect(state.tasks.get('a')).toMatchObject({
      status: 'running',
      attempt: 2,
      released: 1,
      workerId: 'w1',
    });
  });

  it('ignores a release of an attempt that is not the current one', () => {
    const state = given(plan({ id: 'a' }), [requested(), queued('a'), started('a')]);
    evolve(state, released('a', 5));
    expect(state.tasks.get('a')).toMatchObject({ status: 'running', released: 0 });
  });

  it('ignores a release after an outcome of the same attempt', () => {
    const done = given(plan({ id: 'a' }), [requested(), ...ran('a'), released('a')]);
    expect(done.tasks.get('a')).toMatchObject({ status: 'succeeded', released: 0 });
    const failing = given(plan({ id: 'a', retry: { maxAttempts: 2 } }), [
      requested(),
      queued('a'),
      claimedAhead('a'),
      failed('a', exit1),
      released('a'),
    ]);
    expect(failing.tasks.get('a')).toMatchObject({ status: 'running', released: 0 });
    expect(decide(failing, ctx()).events[0]?.type).toBe('TaskRetryScheduled');
  });

  it("ignores a release after the leader's abandon: the abandon stands as a failed try", () => {
    const state = given(plan({ id: 'a', retry: { maxAttempts: 2 } }), [
      requested(),
      queued('a'),
      claimedAhead('a'),
      abandoned('a', 1, 'timeout'),
      released('a'),
    ]);
    expect(state.tasks.get('a')).toMatchObject({ status: 'running', released: 0 });
    expect(decide(state, ctx()).events).toEqual([
      {
        type: 'TaskRetryScheduled',
        data: {
          taskId: 'a',
          attempt: 1,
          term: 1,
          failure: { kind: 'timeout', message: 'timeout' },
          retryAt: iso(T0 + 1000),
        },
      },
    ]);
  });

  it('forgets a stray attempt once its worker released it', () => {
    const state = given(plan({ id: 'a' }), [
      requested(),
      queued('a'),
      { type: 'RunCancelRequested', data: { requestedAt: iso(T0) } },
      { type: 'RunCancelled', data: { term: 1, finishedAt: iso(T0) } },
      claimedAhead('a'),
    ]);
    expect(decide(state, ctx()).abandon).toHaveLength(1);
    evolve(state, released('a'));
    expect(decide(state, ctx()).abandon).toEqual([]);
    expect(state.tasks.get('a')).toMatchObject({ status: 'cancelled', released: 0 });
  });

  it('cancels a run whose claimed-ahead attempt is released instead of abandoned', () => {
    const state = given(plan({ id: 'a' }, { id: 'b' }), [
      requested(),
      queued('a'),
      queued('b'),
      claimedAhead('a'),
      started('b'),
      { type: 'RunCancelRequested', data: { requestedAt: iso(T0) } },
    ]);
    expect(decide(state, ctx()).abandon.map((o) => o.taskId)).toEqual(['a', 'b']);
    // The worker's release won the race for a; the leader's abandon of b won.
    fold(state, released('a'), abandoned('b', 1, 'cancelled'));
    expect(statuses(state)).toEqual({ a: 'pending', b: 'running' });
    expect(step(state)).toEqual(['RunCancelled']);
    expect(statuses(state)).toEqual({ a: 'cancelled', b: 'cancelled' });
  });

  it('still succeeds the run once the next attempt of a released task succeeds', () => {
    const state = given(plan({ id: 'a' }), [requested(), queued('a'), claimedAhead('a'), released('a')]);
    expect(step(state)).toEqual(['TaskQueued:a@2']);
    fold(state, started('a', 2), succeeded('a', 2));
    expect(step(state)).toEqual(['RunSucceeded']);
    expect(state.tasks.get('a')?.succeededAttempt).toBe(2);
  });
});
