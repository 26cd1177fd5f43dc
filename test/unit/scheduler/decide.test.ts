import { describe, expect, it } from 'vitest';
import type { AttemptEvent, RunEvent } from '../../../src/events/schemas/index.js';
import { decide } from '../../../src/scheduler/core/decide.js';
import { evolve } from '../../../src/scheduler/core/evolve.js';
import {
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
  requested,
  started,
  statuses,
  succeeded,
  T0,
} from './fixtures.js';

const chain = plan({ id: 'a' }, { id: 'b', deps: ['a'] }, { id: 'c', deps: ['b'] });

describe('run state machine: scheduling', () => {
  it('decides nothing before the run is requested', () => {
    expect(decide(given(chain, []), ctx())).toEqual({ events: [], abandon: [], wakeAt: undefined });
  });

  it('queues the roots of a requested run, attempt 1, stamped with the term', () => {
    const state = given(plan({ id: 'a' }, { id: 'b' }, { id: 'c', deps: ['a', 'b'] }), [requested()]);
    expect(decide(state, ctx({ term: 7 })).events).toEqual([
      { type: 'TaskQueued', data: { taskId: 'a', attempt: 1, term: 7, queuedAt: iso(T0) } },
      { type: 'TaskQueued', data: { taskId: 'b', attempt: 1, term: 7, queuedAt: iso(T0) } },
    ]);
  });

  it('moves the run to running once a task is queued and the task to running when claimed', () => {
    const state = given(chain, [requested(), queued('a')]);
    expect(state.status).toBe('running');
    expect(statuses(state).a).toBe('queued');
    evolve(state, started('a'));
    expect(statuses(state).a).toBe('running');
    expect(state.tasks.get('a')?.workerId).toBe('w1');
    expect(decide(state, ctx()).events).toEqual([]);
  });

  it('queues the next task of a chain when its upstream succeeds', () => {
    const state = given(chain, [requested(), ...ran('a')]);
    expect(decide(state, ctx()).events.map((e) => [e.type, (e.data as { taskId?: string }).taskId])).toEqual([
      ['TaskQueued', 'b'],
    ]);
  });

  it('waits for every upstream of a fan-in', () => {
    const fanIn = plan({ id: 'a' }, { id: 'b' }, { id: 'c', deps: ['a', 'b'] });
    const state = given(fanIn, [requested(), queued('a'), queued('b'), started('a'), succeeded('a')]);
    expect(decide(state, ctx()).events).toEqual([]);
    evolve(state, started('b'));
    evolve(state, succeeded('b'));
    expect(decide(state, ctx()).events.map((e) => e.type)).toEqual(['TaskQueued']);
  });

  it('queues no more than the budget and keeps the rest pending', () => {
    const wide = plan({ id: 'a' }, { id: 'b' }, { id: 'c' });
    const state = given(wide, [requested()]);
    const step = decideUntilStable(state, ctx({ budget: 2 }));
    expect(step.events.map((e) => (e.data as { taskId: string }).taskId)).toEqual(['a', 'b']);
    expect(statuses(state)).toEqual({ a: 'queued', b: 'queued', c: 'pending' });
    expect(decide(state, ctx({ budget: 0 })).events).toEqual([]);
  });

  it('succeeds the run once every task succeeded', () => {
    const state = given(chain, [requested(), ...ran('a'), ...ran('b'), ...ran('c')]);
    expect(decide(state, ctx()).events).toEqual([
      { type: 'RunSucceeded', data: { term: 1, finishedAt: iso(T0) } },
    ]);
  });

  it('ignores a run event it has already folded (a leader sees its own decisions twice)', () => {
    const state = given(chain, [requested(), queued('a')]);
    const before = structuredClone(statuses(state));
    evolve(state, { ...queued('a'), revision: 1 });
    evolve(state, { ...requested(), revision: 0 });
    expect(statuses(state)).toEqual(before);
    expect(state.revision).toBe(1);
  });

  it('records the highest term seen in the run stream', () => {
    const state = given(chain, [requested()]);
    evolve(state, {
      type: 'TaskQueued',
      data: { taskId: 'a', attempt: 1, term: 9, queuedAt: iso(T0) },
      revision: 1,
    });
    expect(state.term).toBe(9);
  });
});

describe('run state machine: failures', () => {
  const retrying = plan({
    id: 'a',
    retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 1000, jitter: 'none' },
  });

  it('schedules a retry after the backoff and queues attempt 2 when it is due', () => {
    const state = given(retrying, [requested(), queued('a'), started('a'), failed('a', exit1)]);
    const step = decide(state, ctx());
    expect(step.events).toEqual([
      {
        type: 'TaskRetryScheduled',
        data: { taskId: 'a', attempt: 1, term: 1, failure: exit1, retryAt: iso(T0 + 1000) },
      },
    ]);
    evolve(state, { ...step.events[0]!, revision: state.revision + 1 });
    expect(statuses(state).a).toBe('retry_wait');
    expect(decide(state, ctx({ now: T0 + 999 }))).toEqual({ events: [], abandon: [], wakeAt: T0 + 1000 });
    expect(decide(state, ctx({ now: T0 + 1000 })).events).toEqual([
      { type: 'TaskQueued', data: { taskId: 'a', attempt: 2, term: 1, queuedAt: iso(T0 + 1000) } },
    ]);
  });

  it('dead-letters when attempts run out, fails the downstream, and fails the run', () => {
    const p = plan(
      { id: 'a', retry: { maxAttempts: 2 } },
      { id: 'b', deps: ['a'] },
      { id: 'c', deps: ['b'] },
    );
    const state = given(p, [
      requested(),
      queued('a'),
      started('a'),
      failed('a', exit1),
      {
        type: 'TaskRetryScheduled',
        data: { taskId: 'a', attempt: 1, term: 1, failure: exit1, retryAt: iso(T0) },
      },
      queued('a', 2),
      started('a', 2),
      failed('a', exit1, 2),
    ]);
    const result = decideUntilStable(state, ctx());
    expect(result.events).toEqual([
      {
        type: 'TaskDeadLettered',
        data: { taskId: 'a', attempt: 2, term: 1, failure: exit1, deadLetteredAt: iso(T0) },
      },
      { type: 'TaskUpstreamFailed', data: { taskId: 'b', term: 1 } },
      { type: 'TaskUpstreamFailed', data: { taskId: 'c', term: 1 } },
      { type: 'RunFailed', data: { term: 1, finishedAt: iso(T0), deadLettered: ['a'] } },
    ]);
    expect(state.status).toBe('failed');
    expect(state.tasks.get('a')?.openDeadLetter).toBe(true);
  });

  it.each([
    [404, false],
    [400, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ])('treats HTTP %i as retryable: %s', (httpStatus, retryable) => {
    const state = given(plan({ id: 'a', retry: { maxAttempts: 5 } }), [
      requested(),
      queued('a'),
      started('a'),
      failed('a', { kind: 'http_status', message: `HTTP ${httpStatus}`, httpStatus }),
    ]);
    expect(decide(state, ctx()).events[0]?.type).toBe(retryable ? 'TaskRetryScheduled' : 'TaskDeadLettered');
  });

  it('retries only the failure kinds a policy lists', () => {
    const p = plan({ id: 'a', retry: { maxAttempts: 5, retryOn: ['timeout'] } });
    const onExit = given(p, [requested(), queued('a'), started('a'), failed('a', exit1)]);
    expect(decide(onExit, ctx()).events[0]?.type).toBe('TaskDeadLettered');
    const onTimeout = given(p, [
      requested(),
      queued('a'),
      started('a'),
      failed('a', { kind: 'timeout', message: 'timed out' }),
    ]);
    expect(decide(onTimeout, ctx()).events[0]?.type).toBe('TaskRetryScheduled');
  });

  it('runs an all_done task after a failure, and the run still fails', () => {
    const p = plan({ id: 'a' }, { id: 'cleanup', deps: ['a'], rule: 'all_done' });
    const state = given(p, [requested(), queued('a'), started('a'), failed('a', exit1)]);
    const result = decideUntilStable(state, ctx());
    expect(result.events.map((e) => e.type)).toEqual(['TaskDeadLettered', 'TaskQueued']);
    evolve(state, started('cleanup'));
    evolve(state, succeeded('cleanup'));
    expect(decideUntilStable(state, ctx()).events).toEqual([
      { type: 'RunFailed', data: { term: 1, finishedAt: iso(T0), deadLettered: ['a'] } },
    ]);
  });

  it('skips a task whose trigger rule cannot hold, and skips its all_success downstream', () => {
    const p = plan(
      { id: 'a' },
      { id: 'alert', deps: ['a'], rule: 'one_failed' },
      { id: 'page', deps: ['alert'] },
    );
    const state = given(p, [requested(), ...ran('a')]);
    expect(decideUntilStable(state, ctx()).events.map((e) => e.type)).toEqual([
      'TaskSkipped',
      'TaskSkipped',
      'RunSucceeded',
    ]);
    expect(statuses(state)).toEqual({ a: 'succeeded', alert: 'skipped', page: 'skipped' });
  });

  it('abandons a silent attempt past its timeout plus grace, and wakes up for that deadline', () => {
    const state = given(plan({ id: 'a', timeoutMs: 10_000 }), [requested(), queued('a'), started('a')]);
    expect(decide(state, ctx({ now: T0 + 14_999 })).wakeAt).toBe(T0 + 15_000);
    expect(decide(state, ctx({ now: T0 + 15_000 })).abandon).toEqual([
      {
        taskId: 'a',
        attempt: 1,
        failure: { kind: 'timeout', message: 'no outcome 10000 ms after the attempt started' },
      },
    ]);
  });

  it('treats an abandoned attempt (worker lost) as a retryable failure', () => {
    const state = given(plan({ id: 'a', retry: { maxAttempts: 2 } }), [
      requested(),
      queued('a'),
      started('a'),
      {
        type: 'AttemptAbandoned',
        data: {
          runId: RUN,
          taskId: 'a',
          attempt: 1,
          failure: { kind: 'worker_lost', message: 'lease expired' },
          term: 1,
          abandonedAt: iso(T0),
        },
      },
    ]);
    expect(decide(state, ctx()).events[0]?.type).toBe('TaskRetryScheduled');
  });

  it('ignores an outcome for an attempt that is not the current one', () => {
    const state = given(plan({ id: 'a' }), [requested(), queued('a'), started('a')]);
    evolve(state, succeeded('a', 5));
    expect(statuses(state).a).toBe('running');
  });
});

describe('run state machine: dead-letter queue', () => {
  const p = plan({ id: 'a' }, { id: 'b', deps: ['a'] }, { id: 'c', deps: ['b'] });
  const failedRun = () =>
    given(p, [
      requested(),
      queued('a'),
      started('a'),
      failed('a', exit1),
      {
        type: 'TaskDeadLettered',
        data: { taskId: 'a', attempt: 1, term: 1, failure: exit1, deadLetteredAt: iso(T0) },
      },
      { type: 'TaskUpstreamFailed', data: { taskId: 'b', term: 1 } },
      { type: 'TaskUpstreamFailed', data: { taskId: 'c', term: 1 } },
      { type: 'RunFailed', data: { term: 1, finishedAt: iso(T0), deadLettered: ['a'] } },
    ]);

  it('retrying the item queues a new attempt, puts the downstream back to pending, reopens the run', () => {
    const state = failedRun();
    evolve(state, {
      type: 'TaskRequeued',
      data: { taskId: 'a', requeuedAt: iso(T0) },
      revision: state.revision + 1,
    });
    expect(state.status).toBe('running');
    expect(statuses(state)).toEqual({ a: 'pending', b: 'pending', c: 'pending' });
    expect(state.tasks.get('a')?.openDeadLetter).toBe(false);
    expect(decide(state, ctx()).events).toEqual([
      { type: 'TaskQueued', data: { taskId: 'a', attempt: 2, term: 1, queuedAt: iso(T0) } },
    ]);
    for (const e of [...ran('a', 2), ...ran('b'), ...ran('c')]) {
      evolve(
        state,
        'runId' in e.data ? (e as AttemptEvent) : { ...(e as RunEvent), revision: state.revision + 1 },
      );
    }
    expect(decide(state, ctx()).events.map((e) => e.type)).toEqual(['RunSucceeded']);
  });

  it('discarding the item closes it and leaves the task dead-lettered', () => {
    const state = failedRun();
    evolve(state, {
      type: 'DeadLetterDiscarded',
      data: { taskId: 'a', attempt: 1, discardedAt: iso(T0) },
      revision: state.revision + 1,
    });
    expect(state.tasks.get('a')?.openDeadLetter).toBe(false);
    expect(statuses(state).a).toBe('dead_lettered');
    expect(state.status).toBe('failed');
    expect(decide(state, ctx()).events).toEqual([]);
  });
});

describe('run state machine: cancellation', () => {
  it('abandons running attempts, then cancels the run and every unfinished task', () => {
    const p = plan({ id: 'a' }, { id: 'b' }, { id: 'c', deps: ['a', 'b'] });
    const state = given(p, [
      requested(),
      queued('a'),
      queued('b'),
      started('a'),
      { type: 'RunCancelRequested', data: { requestedAt: iso(T0) } },
    ]);
    const step = decide(state, ctx());
    expect(step.events).toEqual([]);
    expect(step.abandon).toEqual([
      { taskId: 'a', attempt: 1, failure: { kind: 'cancelled', message: 'run cancelled' } },
    ]);
    evolve(state, {
      type: 'AttemptAbandoned',
      data: {
        runId: RUN,
        taskId: 'a',
        attempt: 1,
        failure: step.abandon[0]!.failure,
        term: 1,
        abandonedAt: iso(T0),
      },
    });
    expect(decide(state, ctx()).events).toEqual([
      { type: 'RunCancelled', data: { term: 1, finishedAt: iso(T0) } },
    ]);
    evolve(state, {
      type: 'RunCancelled',
      data: { term: 1, finishedAt: iso(T0) },
      revision: state.revision + 1,
    });
    expect(statuses(state)).toEqual({ a: 'cancelled', b: 'cancelled', c: 'cancelled' });
  });

  it('abandons an attempt claimed after the run was cancelled', () => {
    const state = given(plan({ id: 'a' }), [
      requested(),
      queued('a'),
      { type: 'RunCancelRequested', data: { requestedAt: iso(T0) } },
      { type: 'RunCancelled', data: { term: 1, finishedAt: iso(T0) } },
      started('a'),
    ]);
    expect(decide(state, ctx()).abandon).toEqual([
      {
        taskId: 'a',
        attempt: 1,
        failure: { kind: 'cancelled', message: 'the run no longer expects this attempt' },
      },
    ]);
    evolve(state, succeeded('a'));
    expect(decide(state, ctx()).abandon).toEqual([]);
    expect(statuses(state).a).toBe('cancelled');
  });
});
