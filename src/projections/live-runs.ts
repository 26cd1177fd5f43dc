/**
 * Where a new scheduler leader starts from (DESIGN.md: "on election it rebuilds only what is
 * live"): the read models' checkpoint and the runs that were still active there, read in one
 * snapshot so the two agree. The leader loads those runs from the log up to the checkpoint and
 * follows the log from it, instead of folding the whole history.
 */
import type pg from 'pg';
import type { GlobalPosition } from '../events/types.js';
import { READ_MODELS_PROJECTION } from './checkpoint.js';

export interface LiveRuns {
  /** The read models reflect the log up to here. */
  readonly position: GlobalPosition;
  /** Runs queued or running at `position`. */
  readonly runIds: string[];
}

/** undefined when the read models have never been projected (start from the whole log). */
export async function readLiveRuns(pool: pg.Pool): Promise<LiveRuns | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const checkpoint = await client.query<{ position: string }>(
      'SELECT position FROM projection_checkpoints WHERE name = $1',
      [READ_MODELS_PROJECTION],
    );
    const position = checkpoint.rows[0]?.position;
    if (position === undefined) {
      await client.query('COMMIT');
      return undefined;
    }
    const runs = await client.query<{ id: string }>(
      "SELECT id FROM runs WHERE status IN ('queued', 'running') ORDER BY requested_at",
    );
    await client.query('COMMIT');
    return { position: position as GlobalPosition, runIds: runs.rows.map((r) => r.id) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
