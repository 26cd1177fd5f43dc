/**
 * `dagrun replay`: rebuild every read model from the event log. Read models are disposable
 * (DESIGN.md), so this is the answer to a projection bug, a new column, or doubt.
 *
 * It holds the projection's advisory lock from start to end, so it never interleaves with a
 * projector or another replay: it refuses to start while either runs (stop projectors first; a
 * projector started meanwhile waits as a standby and resumes from the rebuilt checkpoint). The
 * tables and the checkpoint are emptied in one transaction, then the log is applied page by page,
 * each page with its checkpoint in one transaction, as the projector does — so a replay that
 * dies half-way leaves a consistent prefix that a projector (or another replay) carries on from.
 * Readers see the tables fill up during a replay; they are complete when it returns.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import { ConflictError } from '../errors.js';
import { START_POSITION } from '../events/position.js';
import type { EventStore, GlobalPosition } from '../events/types.js';
import { applyBatch, READ_MODELS_PROJECTION, tryLockProjection, unlockProjection } from './checkpoint.js';
import { singleConnectionDb } from './database.js';
import { PROJECTED_STREAM_PREFIXES } from './handlers/index.js';
import { READ_MODEL_TABLES } from './schema.js';

export interface ReplayOptions {
  readonly store: EventStore;
  readonly pool: pg.Pool;
  /** Checkpoint name (default `read_models`). */
  readonly name?: string;
  /** Events per read and per transaction (default 1000). */
  readonly batchSize?: number;
  /** Called after each committed page. */
  readonly onProgress?: (progress: { readonly events: number; readonly position: GlobalPosition }) => void;
}

export interface ReplayReport {
  readonly events: number;
  readonly batches: number;
  /** SQL statements the handlers ran. */
  readonly statements: number;
  readonly durationMs: number;
  /** Where the rebuilt checkpoint stands; a projector resumes from here. */
  readonly position: GlobalPosition;
}

/**
 * Empties the read models and projects the whole log again. Throws `ConflictError`
 * (`projection_busy`) when a projector or another replay holds the projection's lock.
 */
export async function replayReadModels(options: ReplayOptions): Promise<ReplayReport> {
  const name = options.name ?? READ_MODELS_PROJECTION;
  const batchSize = options.batchSize ?? 1000;
  const started = performance.now();
  const client = await options.pool.connect();
  let failed = false;
  try {
    if (!(await tryLockProjection(client, name))) {
      throw new ConflictError(
        'projection_busy',
        `projection ${name} is locked by a running projector or replay; stop it and try again`,
        { projection: name },
      );
    }
    const db = singleConnectionDb(client);
    await db.transaction().execute(async (trx) => {
      await sql`TRUNCATE ${sql.join(READ_MODEL_TABLES.map((t) => sql.table(t)))}`.execute(trx);
      await trx.deleteFrom('projection_checkpoints').where('name', '=', name).execute();
      await trx.insertInto('projection_checkpoints').values({ name, position: START_POSITION }).execute();
    });
    let position: GlobalPosition = START_POSITION;
    let events = 0;
    let batches = 0;
    let statements = 0;
    for (;;) {
      const page = await options.store.readAll({
        after: position === START_POSITION ? undefined : position,
        maxCount: batchSize,
        streamPrefixes: PROJECTED_STREAM_PREFIXES,
      });
      if (page.length === 0) break;
      const applied = await applyBatch(db, name, page, position);
      position = applied.position;
      events += page.length;
      batches++;
      statements += applied.statements;
      options.onProgress?.({ events, position });
      if (page.length < batchSize) break;
    }
    await unlockProjection(client, name);
    return { events, batches, statements, durationMs: performance.now() - started, position };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // After a failure the session may still hold the lock: destroying it releases the lock too.
    client.release(failed);
  }
}
