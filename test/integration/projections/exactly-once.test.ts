/**
 * DESIGN.md invariant 5 against a real Postgres: a batch and its checkpoint commit together, so a
 * projector that dies mid-batch — by a fault, or by losing its connection just before COMMIT —
 * leaves nothing of that batch behind and, resumed, ends with the tables of a projector that never
 * crashed. The worker counters and the checkpoint's event count are plain increments: a batch
 * applied twice would show there.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/errors.js';
import type { RecordedEvent } from '../../../src/events/types.js';
import { type BeforeCommitHook, Projector, replayReadModels } from '../../../src/projections/index.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { catchUp, headPosition, projectedEventCount, snapshotReadModels } from './support.js';
import { appendRuns, registerSyntheticDag } from './synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);
const projectors: Projector[] = [];

function projector(options: { beforeCommit?: BeforeCommitHook; registry?: Registry } = {}): Projector {
  const p = new Projector({ store, pool: db.pool, batchSize: 40, pollIntervalMs: 50, ...options });
  projectors.push(p);
  return p.start();
}

beforeAll(async () => {
  await registerSyntheticDag(store, 'synthetic');
  await appendRuns(store, 'synthetic', 30, new Date('2030-01-01T00:00:00Z'));
});
afterAll(async () => {
  await Promise.all(projectors.map((p) => p.stop()));
});

describe('projector exactly-once', () => {
  let beforeFailure: Record<string, unknown[]> = {};
  let appliedBefore: RecordedEvent | undefined;

  it('leaves nothing of a failed batch visible and keeps the old checkpoint', async () => {
    let batches = 0;
    const crashing = projector({
      beforeCommit: async (events) => {
        batches++;
        if (batches < 4) {
          appliedBefore = events.at(-1);
          return;
        }
        // Everything of this batch is written inside the transaction by now; outside it, only
        // the first three batches may be visible.
        beforeFailure = await snapshotReadModels(db.pool);
        throw new TypeError('injected fault');
      },
    });
    await expect(crashing.done).rejects.toThrow('injected fault');
    expect(crashing.status).toMatchObject({ state: 'failed', eventsApplied: 120, batches: 3 });
    expect(await snapshotReadModels(db.pool)).toEqual(beforeFailure);
    const { rows } = await db.pool.query('SELECT position, events_applied FROM projection_checkpoints');
    expect(rows).toEqual([{ position: appliedBefore?.position, events_applied: '120' }]);
  });

  it('resumes from the checkpoint, then survives losing its connection just before COMMIT', async () => {
    const resumed = projector();
    await catchUp(resumed, store);
    await resumed.stop();
    await appendRuns(store, 'synthetic', 10, new Date('2030-01-02T00:00:00Z'));

    let killed = 0;
    const killer = new pg.Client({ connectionString: db.url });
    await killer.connect();
    try {
      const dying = projector({
        beforeCommit: async (_events, trx) => {
          if (killed++ !== 1) return;
          const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
          await killer.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        },
      });
      await catchUp(dying, store);
      expect(dying.status.state).toBe('running');
      expect(dying.status.lastError).toMatch(/ECONNRESET|terminat|connection/i);
    } finally {
      await killer.end();
    }
  });

  it('ends with the tables of a projector that never crashed, each event applied once', async () => {
    const projected = await snapshotReadModels(db.pool);
    const total = await projectedEventCount(store);
    expect(projected['projection_checkpoints']).toEqual([
      { name: 'read_models', events_applied: String(total) },
    ]);
    // Workers' counters are increments: a twice-applied AttemptStarted would count twice.
    const { rows: starts } = await db.pool.query(
      "SELECT data->>'workerId' AS id, count(*)::int AS n FROM events WHERE type = 'AttemptStarted' GROUP BY 1 ORDER BY 1",
    );
    const { rows: workers } = await db.pool.query(
      'SELECT id, attempts_started AS n FROM workers ORDER BY id',
    );
    expect(workers).toEqual(starts);

    await Promise.all(projectors.map((p) => p.stop()));
    const report = await replayReadModels({ store, pool: db.pool, batchSize: 100 });
    expect(report.events).toBe(total);
    expect(report.position).toBe(await headPosition(store));
    expect(await snapshotReadModels(db.pool)).toEqual(projected);
  });

  it('keeps a second projector on standby until the first stops, and refuses a replay meanwhile', async () => {
    const first = projector();
    await catchUp(first, store);
    const second = projector();
    await expect.poll(() => second.status.state).toBe('standby');
    await expect(replayReadModels({ store, pool: db.pool })).rejects.toBeInstanceOf(ConflictError);
    await first.stop();
    await appendRuns(store, 'synthetic', 1, new Date('2030-01-03T00:00:00Z'));
    await catchUp(second, store);
    expect(second.status.state).toBe('running');
    const { rows } = await db.pool.query('SELECT events_applied FROM projection_checkpoints');
    expect(rows).toEqual([{ events_applied: String(await projectedEventCount(store)) }]);
  });

  it('reports its lag: the age of events received but not committed, 0 once caught up', async () => {
    await Promise.all(projectors.map((p) => p.stop()));
    await appendRuns(store, 'synthetic', 1, new Date('2030-01-04T00:00:00Z'));
    await new Promise((r) => setTimeout(r, 300));
    const lags: number[] = [];
    const registry = new Registry();
    let lagging: Projector | undefined;
    lagging = projector({
      registry,
      beforeCommit: async () => {
        lags.push(lagging?.lagMs ?? -1);
      },
    });
    await catchUp(lagging, store);
    expect(lags.length).toBeGreaterThan(0);
    expect(lags[0]).toBeGreaterThanOrEqual(300);
    expect(lagging.lagMs).toBe(0);
    expect(await registry.getSingleMetricAsString('dagrun_projector_lag_seconds')).toContain(
      'dagrun_projector_lag_seconds{projection="read_models"} 0',
    );
    expect(await registry.getSingleMetricAsString('dagrun_projector_events_applied_total')).toMatch(
      /dagrun_projector_events_applied_total\{projection="read_models"\} [1-9]\d*/,
    );
  });
});
