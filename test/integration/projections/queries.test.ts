/**
 * The read-model queries over a synthetic log projected by `replay`: exact views, filters, and
 * keyset pagination that returns every row exactly once — runs requested in the same
 * microsecond included, which only the id tie-break tells apart.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { pauseDag } from '../../../src/commands/index.js';
import { ValidationError } from '../../../src/errors.js';
import { streams } from '../../../src/events/schemas/index.js';
import {
  createReadModelDb,
  type Page,
  ReadModelQueries,
  replayReadModels,
} from '../../../src/projections/index.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { waitUntilVisible } from './support.js';
import { appendRun, registerSyntheticDag, SCENARIOS, type Scenario } from './synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);
const queries = new ReadModelQueries(createReadModelDb(db.pool));
const meta = { correlationId: 'q', causationId: 'q', actor: 'test' };
const BASE = Date.parse('2031-05-01T00:00:00Z');

interface SeededRun {
  readonly id: string;
  readonly dagId: string;
  readonly scenario: Scenario;
  readonly requestedAt: number;
}
const seeded: SeededRun[] = [];

/** Final run status of each synthetic scenario. */
const STATUS: Record<Scenario, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  discarded: 'failed',
  requeued: 'succeeded',
  cancelled: 'cancelled',
  released: 'succeeded',
};

/** Newest first, ties by id descending: the order the API promises. */
const newestFirst = (a: SeededRun, b: SeededRun) =>
  b.requestedAt - a.requestedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

async function everyPage<T>(fetch: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    pages.push(page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

beforeAll(async () => {
  await registerSyntheticDag(store, 'alpha', 'first');
  await registerSyntheticDag(store, 'alpha', 'second');
  for (const dagId of ['beta', 'gamma', 'delta']) await registerSyntheticDag(store, dagId);
  for (let i = 0; i < 23; i++) {
    const dagId = i % 3 === 0 ? 'beta' : 'alpha';
    const scenario = SCENARIOS[i % SCENARIOS.length] as Scenario;
    // Pairs of runs share a request time, so pagination must break ties by id.
    const requestedAt = BASE + Math.floor(i / 2) * 1000;
    const id = await appendRun(store, dagId, scenario, new Date(requestedAt));
    seeded.push({ id, dagId, scenario, requestedAt });
  }
  await pauseDag({ store, metadata: meta }, 'beta', 'maintenance');
  const last = await store.append(streams.dag('gamma'), [
    { type: 'DagDeleted', data: { dagId: 'gamma', deletedAt: '2031-06-01T00:00:00.000Z' }, metadata: meta },
  ]);
  await waitUntilVisible(store, last.position);
  await replayReadModels({ store, pool: db.pool, batchSize: 64 });
});

describe('read-model queries', () => {
  it('pages through all runs newest first, each exactly once', async () => {
    const pages = await everyPage((cursor) => queries.listRuns({ limit: 7, cursor }));
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 2]);
    expect(pages.flat().map((r) => r.id)).toEqual([...seeded].sort(newestFirst).map((r) => r.id));
  });

  it('filters runs by DAG and by status, alone and together', async () => {
    for (const filter of [
      { dagId: 'beta' },
      { status: 'failed' as const },
      { dagId: 'alpha', status: 'succeeded' as const },
      { dagId: 'delta' },
    ]) {
      const pages = await everyPage((cursor) => queries.listRuns({ ...filter, limit: 3, cursor }));
      const expected = seeded
        .filter((r) => filter.dagId === undefined || r.dagId === filter.dagId)
        .filter((r) => !('status' in filter) || STATUS[r.scenario] === filter.status)
        .sort(newestFirst);
      expect(pages.flat().map((r) => r.id)).toEqual(expected.map((r) => r.id));
    }
    expect(await queries.listRuns({ dagId: 'delta' })).toEqual({ items: [], nextCursor: null });
  });

  it('returns a run with its task instances and counters', async () => {
    // Every sixth run is requeued, and every third run is of beta (one version).
    const requeued = seeded.find((r) => r.scenario === 'requeued') as SeededRun;
    const run = await queries.getRun(requeued.id);
    expect(run).toMatchObject({
      id: requeued.id,
      dagId: 'beta',
      dagVersion: 1,
      status: 'succeeded',
      params: {},
      idempotencyKey: null,
      correlationId: 'synthetic',
      requestedAt: new Date(requeued.requestedAt).toISOString(),
      tasks: { total: 3, pending: 0, active: 0, succeeded: 3, failed: 0, skipped: 0, cancelled: 0 },
    });
    expect(
      run?.taskInstances.map((t) => [t.taskId, t.status, t.attempt, t.workerId, t.lastError?.kind]),
    ).toEqual([
      ['extract', 'succeeded', 2, 'w-1', 'exit_code'],
      ['transform', 'succeeded', 1, 'w-1', undefined],
      ['load', 'succeeded', 1, 'w-1', undefined],
    ]);
    expect(await queries.getRun('no-such-run')).toBeUndefined();
  });

  it('returns attempts with their outcomes, first to last', async () => {
    const failed = seeded.find((r) => r.scenario === 'failed') as SeededRun;
    const attempts = await queries.getTaskAttempts(failed.id, 'transform');
    expect(attempts.map(({ runId: _, startedAt: __, finishedAt: ___, ...rest }) => rest)).toEqual(
      [1, 2].map((attempt) => ({
        taskId: 'transform',
        attempt,
        workerId: 'w-1',
        status: 'failed',
        durationMs: 1,
        exitCode: 1,
        httpStatus: null,
        failure: { kind: 'exit_code', message: 'exit 1', exitCode: 1 },
        output: null,
        abandonedByTerm: null,
        logs: { stdout: null, stderr: null },
      })),
    );
    expect(await queries.getTaskAttempts(failed.id, 'load')).toEqual([]);
  });

  it('returns released attempts closed unstarted, between the tries of a task', async () => {
    const released = seeded.find((r) => r.scenario === 'released') as SeededRun;
    const at = (ms: number) => new Date(released.requestedAt + ms).toISOString();
    const attempts = await queries.getTaskAttempts(released.id, 'transform');
    expect(
      attempts.map((a) => [a.attempt, a.status, a.startedAt, a.finishedAt, a.durationMs, a.failure?.kind]),
    ).toEqual([
      [1, 'failed', at(8), at(9), 1, 'exit_code'],
      [2, 'released', at(12), at(13), null, undefined],
      [3, 'succeeded', at(15), at(16), 1, undefined],
    ]);
    expect(attempts[1]).toMatchObject({
      workerId: 'w-1',
      exitCode: null,
      output: null,
      abandonedByTerm: null,
    });
    const run = await queries.getRun(released.id);
    // Of alpha, whose runs are all of its second version.
    expect(run).toMatchObject({ dagId: 'alpha', dagVersion: 2, status: 'succeeded' });
    expect(run?.taskInstances.map((t) => [t.taskId, t.status, t.attempt])).toEqual([
      ['extract', 'succeeded', 2],
      ['transform', 'succeeded', 3],
      ['load', 'succeeded', 1],
    ]);
  });

  it('pages through the DLQ by status, and finds an item by id', async () => {
    const dlqStatus: Partial<Record<Scenario, string>> = {
      failed: 'open',
      discarded: 'discarded',
      requeued: 'retried',
    };
    for (const status of ['open', 'discarded', 'retried'] as const) {
      const pages = await everyPage((cursor) => queries.listDlq({ status, limit: 2, cursor }));
      const expected = seeded.filter((r) => dlqStatus[r.scenario] === status).sort(newestFirst);
      const task = status === 'retried' ? 'extract' : 'transform';
      const attempt = status === 'retried' ? 1 : 2;
      expect(pages.flat().map((i) => i.id)).toEqual(expected.map((r) => `${r.id}:${task}:${attempt}`));
    }
    const all = await everyPage((cursor) => queries.listDlq({ limit: 4, cursor }));
    expect(all.flat()).toHaveLength(seeded.filter((r) => dlqStatus[r.scenario] !== undefined).length);
    const open = seeded.find((r) => r.scenario === 'failed') as SeededRun;
    expect(await queries.getDlqItem(`${open.id}:transform:2`)).toEqual({
      id: `${open.id}:transform:2`,
      runId: open.id,
      dagId: open.dagId,
      taskId: 'transform',
      attempt: 2,
      failure: { kind: 'exit_code', message: 'exit 1', exitCode: 1 },
      status: 'open',
      deadLetteredAt: new Date(open.requestedAt + 11).toISOString(),
      closedAt: null,
    });
  });

  it('lists DAGs by id, with paused and deleted filters, and a DAG with its versions', async () => {
    const ids = async (request: Parameters<ReadModelQueries['listDags']>[0]) =>
      (await everyPage((cursor) => queries.listDags({ ...request, limit: 1, cursor })))
        .flat()
        .map((d) => d.id);
    expect(await ids({})).toEqual(['alpha', 'beta', 'delta']);
    expect(await ids({ includeDeleted: true })).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    expect(await ids({ paused: true })).toEqual(['beta']);
    expect(await ids({ paused: false, includeDeleted: true })).toEqual(['alpha', 'delta', 'gamma']);
    const alpha = await queries.getDag('alpha');
    expect(alpha).toMatchObject({ id: 'alpha', latestVersion: 2, description: 'second', paused: false });
    expect(alpha?.versions.map((v) => [v.version, v.taskIds])).toEqual([
      [2, ['extract', 'transform', 'load']],
      [1, ['extract', 'transform', 'load']],
    ]);
    expect(alpha?.spec).toMatchObject({ name: 'alpha', description: 'second' });
    expect(await queries.getDag('beta')).toMatchObject({ paused: true, pausedReason: 'maintenance' });
    expect(await queries.getDag('gamma')).toMatchObject({
      deleted: true,
      deletedAt: '2031-06-01T00:00:00.000Z',
    });
  });

  it('refuses foreign or forged cursors, bad limits and unknown statuses', async () => {
    const runsCursor = (await queries.listRuns({ limit: 1 })).nextCursor as string;
    await expect(queries.listDlq({ cursor: runsCursor })).rejects.toBeInstanceOf(ValidationError);
    await expect(queries.listRuns({ cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
    await expect(queries.listRuns({ limit: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(queries.listRuns({ limit: 501 })).rejects.toBeInstanceOf(ValidationError);
    await expect(queries.listRuns({ status: 'done' as never })).rejects.toBeInstanceOf(ValidationError);
  });
});
