/**
 * A projection's checkpoint and the one transaction that moves it (DESIGN.md invariant 5): a
 * batch's read-model changes and its new checkpoint commit together or not at all. After a crash
 * the old checkpoint is still there and the batch is applied again from it; nothing of the failed
 * attempt is visible, so nothing is applied twice.
 *
 * The update is also a compare-and-set on the position the batch was read from. A projector
 * holds the projection's advisory lock (below) so it should never lose that race; if it does — a
 * replay forced through, a second projector on a lock that was lost with its connection — the
 * batch rolls back and the projector starts again from whatever checkpoint won.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type pg from 'pg';
import { parsePosition, START_POSITION } from '../events/position.js';
import type { GlobalPosition, RecordedEvent } from '../events/types.js';
import { planBatch } from './batch-plan.js';
import type { ReadModelDatabase } from './schema.js';
import { script } from './script.js';

/** The checkpoint name of the read models this module builds. */
export const READ_MODELS_PROJECTION = 'read_models';

/** First half of the advisory lock key of every projection ("drm"); the second is hashtext(name). */
const PROJECTION_LOCK_CLASS = 0x64726d;

/** Where a projection has got to. */
export interface Checkpoint {
  readonly position: GlobalPosition;
  /** Events applied since the projection was (re)built: a double-applied batch would show here. */
  readonly eventsApplied: number;
}

/** Another writer moved the checkpoint under this batch; the batch was rolled back. */
export class CheckpointMovedError extends Error {
  constructor(
    readonly projection: string,
    readonly expected: GlobalPosition,
  ) {
    super(`projection ${projection}: the checkpoint is no longer at ${expected}; restarting from it`);
    this.name = 'CheckpointMovedError';
  }
}

/** Called after a batch's changes and checkpoint are written, just before COMMIT (tests inject faults). */
export type BeforeCommitHook = (
  events: readonly RecordedEvent[],
  trx: Transaction<ReadModelDatabase>,
) => Promise<void>;

/** The projection's checkpoint, created at the start of the log if it has none. */
export async function loadCheckpoint(db: Kysely<ReadModelDatabase>, name: string): Promise<Checkpoint> {
  await db
    .insertInto('projection_checkpoints')
    .values({ name, position: START_POSITION })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('projection_checkpoints')
    .select(['position', 'events_applied'])
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  // A corrupt checkpoint must fail loudly, not silently restart from the beginning.
  return { position: parsePosition(row.position, 'checkpoint'), eventsApplied: Number(row.events_applied) };
}

/**
 * Applies `events` (in log order, all after `from`) and moves the checkpoint from `from` to the
 * last of them, in one transaction: the checkpoint's compare-and-set, then the batch's
 * statements as one script (script.ts), then COMMIT. Returns the new checkpoint's position and how many
 * statements ran. Throws `CheckpointMovedError` (rolled back) if the checkpoint was not at `from`.
 */
export async function applyBatch(
  db: Kysely<ReadModelDatabase>,
  name: string,
  events: readonly RecordedEvent[],
  from: GlobalPosition,
  beforeCommit?: BeforeCommitHook,
): Promise<{ position: GlobalPosition; statements: number }> {
  const last = events.at(-1);
  if (last === undefined) return { position: from, statements: 0 };
  const statements = planBatch(events);
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable('projection_checkpoints')
      .set({
        position: last.position,
        events_applied: sql`events_applied + ${events.length}`,
        updated_at: sql`now()`,
      })
      .where('name', '=', name)
      .where('position', '=', from)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) throw new CheckpointMovedError(name, from);
    // The read models are derived: a batch lost with the server's last moments (asynchronous
    // commit) is lost together with its checkpoint, and projected again from the one before. So
    // the commit need not wait for the WAL flush, which would bound the projector to one batch
    // per fsync while the engine's commits queue for the same disk.
    await trx.executeQuery(script(['SET LOCAL synchronous_commit = off', ...statements]));
    await beforeCommit?.(events, trx);
    return { position: last.position, statements: statements.length };
  });
}

/**
 * Takes the projection's session-level advisory lock on `client` if it is free. One holder at a
 * time: a projector, or a replay. It is held until `unlockProjection` or the session ends, so a
 * crashed holder frees it with its connection.
 */
export async function tryLockProjection(client: pg.ClientBase, name: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
    [PROJECTION_LOCK_CLASS, name],
  );
  return rows[0]?.locked === true;
}

/** Releases the lock `tryLockProjection` took on this session. */
export async function unlockProjection(client: pg.ClientBase, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [PROJECTION_LOCK_CLASS, name]);
}

/**
 * Whether some session of this database holds the projection's lock now: a projector is active
 * (or a replay runs). Read from `pg_locks`, so it costs no lock and works from any process.
 */
export async function isProjectionLocked(db: pg.ClientBase | pg.Pool, name: string): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = $1::int4::oid AND objid = hashtext($2)::oid
     ) AS locked`,
    [PROJECTION_LOCK_CLASS, name],
  );
  return rows[0]?.locked === true;
}
