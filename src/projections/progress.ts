/**
 * How far a projection has got, seen from outside the projector: its checkpoint row, the oldest
 * event it has not applied yet, and whether a projector holds its lock. `dagrun api` serves its
 * lag and readiness from this (watcher.ts), and a standby `dagrun projector` reports the active
 * one's lag with it.
 */
import type pg from 'pg';
import { parsePosition, START_POSITION } from '../events/position.js';
import type { EventStore, GlobalPosition } from '../events/types.js';
import { isProjectionLocked, READ_MODELS_PROJECTION } from './checkpoint.js';
import { PROJECTED_STREAM_PREFIXES } from './handlers/index.js';

export interface ProjectionProgress {
  /** The committed checkpoint (the start of the log when there is none yet). */
  readonly position: GlobalPosition;
  readonly eventsApplied: number;
  /** When the checkpoint last moved; undefined when there is none yet. */
  readonly updatedAt: Date | undefined;
  /** createdAt of the oldest event the projection has not applied; undefined when caught up. */
  readonly behindSince: Date | undefined;
  /** Whether a projector (or a replay) holds the projection's lock now. */
  readonly active: boolean;
}

/**
 * Reads the projection's progress: three small queries. The lag it implies — now minus
 * `behindSince` — is the same measure as `Projector.lagMs`: the age of the oldest event not yet
 * in the read models.
 */
export async function readProjectionProgress(
  pool: pg.Pool,
  store: EventStore,
  name: string = READ_MODELS_PROJECTION,
): Promise<ProjectionProgress> {
  const [checkpoint, active] = await Promise.all([
    pool.query<{ position: string; events_applied: string; updated_at: Date }>(
      'SELECT position, events_applied::text AS events_applied, updated_at FROM projection_checkpoints WHERE name = $1',
      [name],
    ),
    isProjectionLocked(pool, name),
  ]);
  const row = checkpoint.rows[0];
  const position = row ? parsePosition(row.position, 'checkpoint') : START_POSITION;
  const [next] = await store.readAll({
    ...(position === START_POSITION ? {} : { after: position }),
    maxCount: 1,
    streamPrefixes: PROJECTED_STREAM_PREFIXES,
  });
  return {
    position,
    eventsApplied: row ? Number(row.events_applied) : 0,
    updatedAt: row?.updated_at,
    behindSince: next?.createdAt,
    active,
  };
}

/** Milliseconds behind at `now` (0 when caught up). */
export function lagOf(progress: Pick<ProjectionProgress, 'behindSince'>, now = Date.now()): number {
  return progress.behindSince ? Math.max(0, now - progress.behindSince.getTime()) : 0;
}
