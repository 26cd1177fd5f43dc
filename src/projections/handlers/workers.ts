/**
 * The `workers` stream → `workers`: the scheduler leader records there that a worker joined, left
 * (drained) or was lost (its lease expired), each with the time it saw it (`at`); a WorkerJoined
 * payload is kept whole as `info`. Workers are also known from their attempts (see attempt.ts),
 * so the in-process engine, which writes no `workers` events, has rows too.
 */
import { type CompiledQuery, sql } from 'kysely';
import type { WorkerEvent } from '../../events/schemas/index.js';
import { compiler } from '../database.js';
import type { WorkerStatus } from '../schema.js';
import { assertNever, json } from './support.js';

/** The SQL that applies one `workers` event; pure. */
export function projectWorkerEvent(event: WorkerEvent): CompiledQuery[] {
  const { workerId, at } = event.data;
  switch (event.type) {
    case 'WorkerJoined':
      return [upsert(workerId, 'active', at, { joined_at: at, info: json(event.data) })];
    case 'WorkerLeft':
      return [upsert(workerId, 'left', at, { left_at: at })];
    case 'WorkerLost':
      return [upsert(workerId, 'lost', at, { lost_at: at })];
    default:
      return assertNever(event);
  }
}

function upsert(
  id: string,
  status: WorkerStatus,
  at: string,
  columns: { joined_at?: string; left_at?: string; lost_at?: string; info?: string },
): CompiledQuery {
  return compiler
    .insertInto('workers')
    .values({
      id,
      status,
      info: null,
      joined_at: null,
      left_at: null,
      lost_at: null,
      first_seen_at: at,
      last_seen_at: at,
      ...columns,
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({
        status,
        ...columns,
        first_seen_at: sql`least(workers.first_seen_at, excluded.first_seen_at)`,
        last_seen_at: sql`greatest(workers.last_seen_at, excluded.last_seen_at)`,
      }),
    )
    .compile();
}
