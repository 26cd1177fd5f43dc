/** Helpers shared by the projection tests: table snapshots and waiting for the projector. */
import type pg from 'pg';
import type { EventStore, GlobalPosition } from '../../../src/events/types.js';
import {
  PROJECTED_STREAM_PREFIXES,
  type Projector,
  READ_MODEL_TABLES,
} from '../../../src/projections/index.js';

/** Every read-model table, rows in a stable order, plus the checkpoint's applied-event count. */
export async function snapshotReadModels(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const snapshot: Record<string, unknown[]> = {};
  for (const table of READ_MODEL_TABLES) {
    // Ordering by the whole row's text makes the order total without naming each key.
    const { rows } = await pool.query(`SELECT * FROM ${table} t ORDER BY t::text`);
    snapshot[table] = rows;
  }
  const { rows } = await pool.query('SELECT name, events_applied FROM projection_checkpoints ORDER BY name');
  snapshot['projection_checkpoints'] = rows;
  return snapshot;
}

/** The position of the last event the projector reads (the head of the projected streams). */
export async function headPosition(store: EventStore): Promise<GlobalPosition> {
  const events = await store.readAll({ streamPrefixes: PROJECTED_STREAM_PREFIXES });
  const last = events.at(-1);
  if (!last) throw new Error('the log is empty');
  return last.position;
}

/** Count of events in the projected streams. */
export async function projectedEventCount(store: EventStore): Promise<number> {
  return (await store.readAll({ streamPrefixes: PROJECTED_STREAM_PREFIXES })).length;
}

/** Waits until the projector has applied everything in the log now. */
export async function catchUp(projector: Projector, store: EventStore, timeoutMs = 15_000): Promise<void> {
  // A read of $all hides events of transactions still open anywhere on the server, so one head
  // can be behind an event the test already saw through readStream: wait until the head holds
  // still across two looks.
  const deadline = Date.now() + timeoutMs;
  let head = await headPosition(store);
  for (;;) {
    await projector.waitForPosition(head, Math.max(1, deadline - Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await headPosition(store);
    if (next === head) return;
    head = next;
  }
}

/**
 * Waits until a read of $all shows `position`: an append is visible to readers only once every
 * transaction that began before it on the server has ended (a long one in another test's
 * database holds it back), so a replay right after appending could miss the last events.
 */
export async function waitUntilVisible(store: EventStore, position: GlobalPosition, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while ((await headPosition(store)) < position) {
    if (Date.now() > deadline) throw new Error(`${position} not visible to readers in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
