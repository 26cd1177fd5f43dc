/**
 * The `workers` stream → `workers`. DESIGN.md has the scheduler leader append WorkerJoined,
 * WorkerLeft and WorkerLost there, but no schema for them exists yet (the stream is not in the
 * registry of src/events/schemas). So this handler reads only what any sensible payload has — a
 * `workerId`, and an optional ISO time (`joinedAt`/`leftAt`/`lostAt`), else the time the event
 * was recorded — keeps a WorkerJoined payload whole as `info`, and ignores anything else.
 * Until those events exist, the table is filled from attempts (see attempt.ts).
 */
import { type CompiledQuery, sql } from 'kysely';
import { z } from 'zod';
import { compiler } from '../database.js';
import type { WorkerStatus } from '../schema.js';
import { json } from './support.js';

const workerEvent = z.looseObject({
  workerId: z.string().min(1),
  joinedAt: z.iso.datetime({ offset: true }).optional(),
  leftAt: z.iso.datetime({ offset: true }).optional(),
  lostAt: z.iso.datetime({ offset: true }).optional(),
});

/** The SQL that applies one `workers` event (none for unknown types or payloads); pure. */
export function projectWorkerEvent(type: string, data: unknown, recordedAt: string): CompiledQuery[] {
  const parsed = workerEvent.safeParse(data);
  if (!parsed.success) return [];
  const { workerId } = parsed.data;
  switch (type) {
    case 'WorkerJoined': {
      const at = parsed.data.joinedAt ?? recordedAt;
      return [upsert(workerId, 'active', at, { joined_at: at, info: json(parsed.data) })];
    }
    case 'WorkerLeft': {
      const at = parsed.data.leftAt ?? recordedAt;
      return [upsert(workerId, 'left', at, { left_at: at })];
    }
    case 'WorkerLost': {
      const at = parsed.data.lostAt ?? recordedAt;
      return [upsert(workerId, 'lost', at, { lost_at: at })];
    }
    default:
      return [];
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
