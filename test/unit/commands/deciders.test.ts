import { describe, expect, it } from 'vitest';
import { type DagCommand, type DagState, dagDecider } from '../../../src/commands/dag-decider.js';
import { specHash } from '../../../src/commands/index.js';
import { runCommandDecider } from '../../../src/commands/run-decider.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/errors.js';
import type { DagEvent, RunEvent } from '../../../src/events/schemas/index.js';
import { deciderSpec } from '../../support/decider-spec.js';

const NOW = '2026-01-01T00:00:00.000Z';
const spec = parseDagOrThrow(`
name: etl
params:
  date: { type: string }
  limit: { type: number, default: 10 }
  dry: { type: boolean, default: false }
tasks:
  - { id: a, type: shell, command: "true" }
`);
const hash = specHash(spec);
const changed = parseDagOrThrow(`
name: etl
tasks:
  - { id: a, type: shell, command: "false" }
`);

const registered: DagEvent[] = [
  { type: 'DagRegistered', data: { dagId: 'etl', registeredAt: NOW } },
  { type: 'DagVersionPublished', data: { dagId: 'etl', version: 1, specHash: hash, spec, publishedAt: NOW } },
];
const register = (s = spec): DagCommand => ({
  type: 'RegisterDag',
  dagId: 'etl',
  spec: s,
  specHash: specHash(s),
  now: NOW,
});

describe('RegisterDag', () => {
  const dag = deciderSpec(dagDecider);
  it('registers a new DAG with version 1', () => dag.given([]).when(register()).then(registered));
  it('is a no-op for the same spec', () => dag.given(registered).when(register()).thenNothing());
  it('publishes version 2 when the spec changed', () =>
    dag
      .given(registered)
      .when(register(changed))
      .then([
        {
          type: 'DagVersionPublished',
          data: { dagId: 'etl', version: 2, specHash: specHash(changed), spec: changed, publishedAt: NOW },
        },
      ]));
  it('hashes the normalized spec, so formatting and key order do not matter', () => {
    const reformatted = parseDagOrThrow(`
tasks:
  - command: "true"
    type: shell
    id: a
params:
  dry: { default: false, type: boolean }
  limit: { default: 10, type: number }
  date: { type: string }
name: etl
`);
    expect(specHash(reformatted)).toBe(hash);
  });
});

describe('PauseDag and ResumeDag', () => {
  const dag = deciderSpec(dagDecider);
  const paused: DagEvent = { type: 'DagPaused', data: { dagId: 'etl', pausedAt: NOW, reason: 'upgrade' } };
  it('pauses an active DAG', () =>
    dag
      .given(registered)
      .when({ type: 'PauseDag', dagId: 'etl', reason: 'upgrade', now: NOW })
      .then([paused]));
  it('is a no-op to pause a paused DAG', () =>
    dag
      .given([...registered, paused])
      .when({ type: 'PauseDag', dagId: 'etl', now: NOW })
      .thenNothing());
  it('resumes a paused DAG', () =>
    dag
      .given([...registered, paused])
      .when({ type: 'ResumeDag', dagId: 'etl', now: NOW })
      .then([{ type: 'DagResumed', data: { dagId: 'etl', resumedAt: NOW } }]));
  it('is a no-op to resume an active DAG', () =>
    dag.given(registered).when({ type: 'ResumeDag', dagId: 'etl', now: NOW }).thenNothing());
  it('refuses an unknown DAG', () =>
    dag
      .given([])
      .when({ type: 'PauseDag', dagId: 'etl', now: NOW })
      .thenThrows(NotFoundError, { code: 'not_found' }));
});

const dagState = (events: DagEvent[]): DagState =>
  events.reduce(dagDecider.evolve, dagDecider.initialState());

describe('RequestRun', () => {
  const run = deciderSpec(runCommandDecider);
  const request = (params: Record<string, unknown>, dag = dagState(registered), key?: string) =>
    ({ type: 'RequestRun', runId: 'r1', dagId: 'etl', dag, params, idempotencyKey: key, now: NOW }) as const;
  const requested: RunEvent = {
    type: 'RunRequested',
    data: {
      runId: 'r1',
      dagId: 'etl',
      dagVersion: 1,
      params: { date: '2026-01-01', limit: 5, dry: false },
      idempotencyKey: 'k',
      requestedAt: NOW,
    },
  };

  it('resolves params: coerces CLI strings to the declared type and fills defaults', () =>
    run
      .given([])
      .when(request({ date: '2026-01-01', limit: '5' }, dagState(registered), 'k'))
      .then([requested]));

  it('lists every param problem at once', () => {
    let error: unknown;
    try {
      runCommandDecider.decide(request({ limit: 'many', dryy: 'true' }), runCommandDecider.initialState());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => [i.path, i.kind])).toEqual([
      ['params.dryy', 'unknown_param'],
      ['params.date', 'missing_param'],
      ['params.limit', 'invalid_param'],
    ]);
    expect((error as ValidationError).issues[0]?.message).toMatch(/did you mean 'dry'/);
  });

  it('returns the same run for the same idempotency key and params', () =>
    run
      .given([requested])
      .when(request({ date: '2026-01-01', limit: 5 }, dagState(registered), 'k'))
      .thenNothing());

  it('refuses the same idempotency key with other params', () =>
    run
      .given([requested])
      .when(request({ date: '2026-01-02' }, dagState(registered), 'k'))
      .thenThrows(ConflictError, { code: 'idempotency_key_reused', status: 409 }));

  it('refuses a paused DAG and an unknown one', () => {
    const paused = dagState([...registered, { type: 'DagPaused', data: { dagId: 'etl', pausedAt: NOW } }]);
    run
      .given([])
      .when(request({ date: 'x' }, paused))
      .thenThrows(ConflictError, { code: 'dag_paused' });
    run
      .given([])
      .when(request({}, dagState([])))
      .thenThrows(NotFoundError);
  });
});

describe('CancelRun and the dead-letter queue', () => {
  const run = deciderSpec(runCommandDecider);
  const requested: RunEvent = {
    type: 'RunRequested',
    data: { runId: 'r1', dagId: 'etl', dagVersion: 1, params: {}, requestedAt: NOW },
  };
  const failure = { kind: 'exit_code' as const, message: 'exit 1', exitCode: 1 };
  const dead: RunEvent[] = [
    requested,
    { type: 'TaskDeadLettered', data: { taskId: 'a', attempt: 2, term: 1, failure, deadLetteredAt: NOW } },
    { type: 'RunFailed', data: { term: 1, finishedAt: NOW, deadLettered: ['a'] } },
  ];

  it('requests cancellation of a live run, once', () => {
    run
      .given([requested])
      .when({ type: 'CancelRun', runId: 'r1', now: NOW })
      .then([{ type: 'RunCancelRequested', data: { requestedAt: NOW } }]);
    run
      .given([requested, { type: 'RunCancelRequested', data: { requestedAt: NOW } }])
      .when({ type: 'CancelRun', runId: 'r1', now: NOW })
      .thenNothing();
  });

  it('refuses to cancel a finished or unknown run', () => {
    run
      .given(dead)
      .when({ type: 'CancelRun', runId: 'r1', now: NOW })
      .thenThrows(ConflictError, { code: 'run_finished' });
    run.given([]).when({ type: 'CancelRun', runId: 'r1', now: NOW }).thenThrows(NotFoundError);
  });

  it('retries an open dead letter, and only once', () => {
    const requeued: RunEvent = { type: 'TaskRequeued', data: { taskId: 'a', requeuedAt: NOW } };
    run.given(dead).when({ type: 'RetryDeadLetter', runId: 'r1', taskId: 'a', now: NOW }).then([requeued]);
    run
      .given([...dead, requeued])
      .when({ type: 'RetryDeadLetter', runId: 'r1', taskId: 'a', now: NOW })
      .thenThrows(NotFoundError);
  });

  it('discards an open dead letter with the attempt it closes', () =>
    run
      .given(dead)
      .when({ type: 'DiscardDeadLetter', runId: 'r1', taskId: 'a', now: NOW })
      .then([{ type: 'DeadLetterDiscarded', data: { taskId: 'a', attempt: 2, discardedAt: NOW } }]));
});
