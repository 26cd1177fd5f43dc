/** Command handlers against a real Postgres event store: appends, conflicts, idempotency. */
import { describe, expect, it } from 'vitest';
import { cancelRun, pauseDag, registerDag, requestRun, resumeDag } from '../../../src/commands/index.js';
import { parseDagOrThrow } from '../../../src/dag/index.js';
import { ConflictError, ValidationError } from '../../../src/errors.js';
import { streams } from '../../../src/events/schemas/index.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
const ctx = { store, metadata: { correlationId: 'corr-1', actor: 'test' } };
const dag = (command: string) =>
  parseDagOrThrow(`
name: nightly
params:
  day: { type: string }
tasks:
  - { id: a, type: shell, command: "${command}" }
`);

describe('command handlers', () => {
  it('publishes a version only when the spec changed', async () => {
    expect(await registerDag(ctx, dag('true'))).toEqual({ dagId: 'nightly', version: 1, changed: true });
    expect(await registerDag(ctx, dag('true'))).toEqual({ dagId: 'nightly', version: 1, changed: false });
    expect(await registerDag(ctx, dag('false'))).toEqual({ dagId: 'nightly', version: 2, changed: true });
    const events = await store.readStream(streams.dag('nightly'));
    expect(events.map((e) => e.type)).toEqual([
      'DagRegistered',
      'DagVersionPublished',
      'DagVersionPublished',
    ]);
    expect(events[0]?.metadata).toMatchObject({
      correlationId: 'corr-1',
      causationId: 'corr-1',
      actor: 'test',
    });
  });

  it('gives concurrent requests with one idempotency key one run', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        requestRun(ctx, { dagId: 'nightly', params: { day: 'mon' }, idempotencyKey: 'k1' }),
      ),
    );
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const runId = results[0]?.runId as string;
    expect((await store.readStream(streams.run(runId))).map((e) => e.type)).toEqual(['RunRequested']);
    await expect(
      requestRun(ctx, { dagId: 'nightly', params: { day: 'tue' }, idempotencyKey: 'k1' }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('changes nothing when params are invalid', async () => {
    const before = (await store.readAll()).length;
    await expect(requestRun(ctx, { dagId: 'nightly', params: { dya: 'x' } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect((await store.readAll()).length).toBe(before);
  });

  it('retries on a concurrency conflict and decides again on the new state', async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => pauseDag(ctx, 'nightly', 'busy')));
    expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
    expect(outcomes.every((o) => o.status === 'paused')).toBe(true);
    await expect(requestRun(ctx, { dagId: 'nightly', params: { day: 'wed' } })).rejects.toMatchObject({
      code: 'dag_paused',
    });
    await resumeDag(ctx, 'nightly');
    const { runId } = await requestRun(ctx, { dagId: 'nightly', params: { day: 'wed' } });
    const cancels = await Promise.all([cancelRun(ctx, runId), cancelRun(ctx, runId), cancelRun(ctx, runId)]);
    expect(cancels.filter((c) => c.changed)).toHaveLength(1);
  });
});
