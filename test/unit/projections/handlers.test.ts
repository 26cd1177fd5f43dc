/**
 * The handlers are pure: an event in, compiled SQL out. Every event type the schema registry
 * knows must have a handler that writes something (a new type fails here until it is projected);
 * everything else is skipped.
 */
import { describe, expect, it } from 'vitest';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { attemptEventSchemas, dagEventSchemas, runEventSchemas } from '../../../src/events/schemas/index.js';
import type { GlobalPosition, RecordedEvent } from '../../../src/events/types.js';
import { projectEvent, refreshRunSummaries, runOfEvent } from '../../../src/projections/handlers/index.js';
import { boundedOutput, MAX_OUTPUT_JSON_CHARS } from '../../../src/projections/handlers/support.js';

const at = '2030-01-01T00:00:00.000Z';
const failure = { kind: 'exit_code', message: 'exit 1', exitCode: 1 };
const ref = { runId: 'r1', taskId: 't1', attempt: 1 };
const spec = parseDagOrThrow('name: d1\ntasks:\n  - { id: t1, type: shell, command: "true" }\n');

const samples: Record<string, Record<string, unknown>> = {
  DagRegistered: { dagId: 'd1', registeredAt: at },
  DagVersionPublished: { dagId: 'd1', version: 1, specHash: 'a'.repeat(64), spec, publishedAt: at },
  DagPaused: { dagId: 'd1', pausedAt: at },
  DagResumed: { dagId: 'd1', resumedAt: at },
  DagDeleted: { dagId: 'd1', deletedAt: at },
  RunRequested: { runId: 'r1', dagId: 'd1', dagVersion: 1, params: {}, requestedAt: at },
  TaskQueued: { taskId: 't1', attempt: 1, term: 1, queuedAt: at },
  TaskSkipped: { taskId: 't1', term: 1, reason: 'rule' },
  TaskUpstreamFailed: { taskId: 't1', term: 1 },
  TaskRetryScheduled: { taskId: 't1', attempt: 1, term: 1, failure, retryAt: at },
  TaskDeadLettered: { taskId: 't1', attempt: 1, term: 1, failure, deadLetteredAt: at },
  TaskRequeued: { taskId: 't1', requeuedAt: at },
  DeadLetterDiscarded: { taskId: 't1', attempt: 1, discardedAt: at },
  RunCancelRequested: { requestedAt: at },
  RunSucceeded: { term: 1, finishedAt: at },
  RunFailed: { term: 1, finishedAt: at, deadLettered: ['t1'] },
  RunCancelled: { term: 1, finishedAt: at },
  AttemptStarted: { ...ref, workerId: 'w1', startedAt: at },
  AttemptSucceeded: { ...ref, finishedAt: at, durationMs: 5, exitCode: 0, output: { a: 1 } },
  AttemptFailed: { ...ref, finishedAt: at, durationMs: 5, failure },
  AttemptAbandoned: { ...ref, failure: { kind: 'worker_lost', message: 'gone' }, term: 3, abandonedAt: at },
  AttemptReleased: { ...ref, releasedAt: at, reason: 'no free slot within 500 ms' },
};

function recorded(streamName: string, type: string, data: unknown): RecordedEvent {
  return {
    id: '00000000-0000-0000-0000-000000000000',
    streamName,
    revision: 0,
    position: '0000000000000001-0000000000000001' as GlobalPosition,
    type,
    data,
    metadata: { correlationId: 'corr', causationId: 'c', actor: 'test' },
    createdAt: new Date(at),
  };
}

const registries = [
  ['dag-d1', dagEventSchemas],
  ['run-r1', runEventSchemas],
  ['attempt-r1-t1-1', attemptEventSchemas],
] as const;

describe('event handlers', () => {
  it.each(registries.flatMap(([stream, schemas]) => Object.keys(schemas).map((type) => [stream, type])))(
    '%s %s writes the read models',
    (stream, type) => {
      const schemas = registries.find(([s]) => s === stream)?.[1] as Record<
        string,
        { parse(v: unknown): unknown }
      >;
      const data = schemas[type]?.parse(samples[type]);
      const queries = projectEvent(recorded(stream, type, data));
      expect(queries.length).toBeGreaterThan(0);
      for (const query of queries) expect(query.sql).toMatch(/^\s*(insert|update|with)/i);
    },
  );

  it('closes a released attempt without a duration or failure, and puts its running task back to pending', () => {
    const [attempt, task, worker] = projectEvent(
      recorded('attempt-r1-t1-1', 'AttemptReleased', samples['AttemptReleased']),
    );
    expect(attempt?.sql).toMatch(/^insert into "attempts"/);
    expect(attempt?.parameters).toContain('released');
    expect(attempt?.parameters).not.toContain('no free slot within 500 ms');
    expect(task?.sql).toMatch(
      /^update "task_instances" set "status" = \$1, "started_at" = \$2, "worker_id" = \$3/,
    );
    expect(task?.sql).toMatch(/"attempt" = \$\d+ and "status" = \$\d+$/);
    expect(task?.parameters).toEqual(['pending', null, null, 'r1', 't1', 1, 'running']);
    // Not counted as started, succeeded, failed or abandoned work: only the worker's last sign of life.
    expect(worker?.sql).toMatch(/^update "workers" set "last_seen_at" = greatest/);
    expect(worker?.sql).not.toMatch(/attempts_/);
  });

  it('skips unknown types and foreign streams', () => {
    expect(projectEvent(recorded('run-r1', 'SomethingNew', {}))).toEqual([]);
    expect(projectEvent(recorded('billing-1', 'Charged', {}))).toEqual([]);
    expect(projectEvent(recorded('workers', 'WorkerRenamed', { workerId: 'w1' }))).toEqual([]);
    const joined = {
      workerId: 'w1',
      term: 1,
      at: '2030-01-01T00:00:00.000Z',
      capacity: 2,
      labels: [],
      version: '1',
    };
    expect(projectEvent(recorded('workers', 'WorkerJoined', joined))).toHaveLength(1);
  });

  it('takes the run id from the stream name, and from the payload of attempt events', () => {
    expect(runOfEvent(recorded('run-r-1', 'TaskQueued', {}))).toBe('r-1');
    expect(runOfEvent(recorded('attempt-r-1-t-1', 'AttemptStarted', { runId: 'r-1' }))).toBe('r-1');
    expect(runOfEvent(recorded('dag-d1', 'DagPaused', {}))).toBeUndefined();
  });

  it('recounts each touched run once per batch, at its latest event time', () => {
    const later = { ...recorded('run-r1', 'TaskQueued', {}), createdAt: new Date('2030-01-02T00:00:00Z') };
    const [query, ...rest] = refreshRunSummaries([
      recorded('run-r1', 'TaskQueued', {}),
      recorded('attempt-r1-t1-1', 'AttemptStarted', ref),
      later,
      recorded('run-r2', 'RunRequested', {}),
    ]);
    expect(rest).toEqual([]);
    expect(query?.parameters).toEqual([
      ['r1', 'r2'],
      ['2030-01-02T00:00:00.000Z', at],
    ]);
    expect(refreshRunSummaries([recorded('dag-d1', 'DagPaused', {})])).toEqual([]);
  });

  it('keeps outputs up to the bound and stubs bigger ones', () => {
    expect(JSON.parse(boundedOutput({ a: [1, 2] }))).toEqual({ a: [1, 2] });
    expect(JSON.parse(boundedOutput(undefined))).toBeNull();
    const big = 'x'.repeat(MAX_OUTPUT_JSON_CHARS);
    const stub = JSON.parse(boundedOutput({ big }));
    expect(stub).toEqual({
      truncated: true,
      jsonChars: big.length + 10,
      preview: `{"big":"${'x'.repeat(1016)}`,
    });
  });
});
