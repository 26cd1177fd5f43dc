/**
 * From a recorded event to the SQL that applies it. Handlers are pure: they compile queries and
 * return them, and the projector runs them in its batch transaction. They are written to be
 * idempotent where that is free (inserts ignore conflicts, transitions check the status they
 * leave), but exactly-once rests on the checkpoint written in the same transaction, not on that:
 * the worker counters, for one, are plain increments.
 *
 * Events of a type a handler does not know (written by a newer version) are skipped, not fatal,
 * so a rolling upgrade cannot wedge the projection.
 */
import { type CompiledQuery, sql } from 'kysely';
import {
  type AttemptEvent,
  attemptEventSchemas,
  categoryOf,
  type DagEvent,
  dagEventSchemas,
  type RunEvent,
  runEventSchemas,
  type WorkerEvent,
  workerEventSchemas,
} from '../../events/schemas/index.js';
import type { RecordedEvent } from '../../events/types.js';
import { compiler } from '../database.js';
import { projectAttemptEvent } from './attempt.js';
import { projectDagEvent } from './dag.js';
import { projectRunEvent } from './run.js';
import { runIdOfStream } from './support.js';
import { projectWorkerEvent } from './workers.js';

/** The streams the read models are built from; the projector subscribes to these only. */
export const PROJECTED_STREAM_PREFIXES = ['dag-', 'run-', 'attempt-', 'workers'] as const;

/** The SQL that applies one event, in order; empty for events the read models ignore. */
export function projectEvent(event: RecordedEvent): CompiledQuery[] {
  const recordedAt = event.createdAt.toISOString();
  switch (categoryOf(event.streamName)) {
    case 'dag':
      return event.type in dagEventSchemas ? projectDagEvent(event as unknown as DagEvent) : [];
    case 'run': {
      const runId = runIdOfStream(event.streamName);
      if (runId === undefined || !(event.type in runEventSchemas)) return [];
      return projectRunEvent(event as unknown as RunEvent, {
        runId,
        recordedAt,
        correlationId: event.metadata.correlationId,
      });
    }
    case 'attempt':
      return event.type in attemptEventSchemas ? projectAttemptEvent(event as unknown as AttemptEvent) : [];
    case 'workers':
      return event.type in workerEventSchemas ? projectWorkerEvent(event as unknown as WorkerEvent) : [];
    default:
      return [];
  }
}

/** The run an event changes, if any: its run stream, or the run an attempt belongs to. */
export function runOfEvent(event: RecordedEvent): string | undefined {
  switch (categoryOf(event.streamName)) {
    case 'run':
      return runIdOfStream(event.streamName);
    case 'attempt': {
      const runId = (event.data as { runId?: unknown } | null)?.runId;
      return typeof runId === 'string' ? runId : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Recounts the task counters of every run the batch touched, and moves its `updated_at` to the
 * latest of their events. Recounting once per batch costs one statement however many task
 * transitions the batch holds, and cannot drift from `task_instances`.
 */
export function refreshRunSummaries(events: readonly RecordedEvent[]): CompiledQuery[] {
  const touched = new Map<string, Date>();
  for (const event of events) {
    const runId = runOfEvent(event);
    if (runId === undefined) continue;
    const seen = touched.get(runId);
    if (seen === undefined || event.createdAt > seen) touched.set(runId, event.createdAt);
  }
  if (touched.size === 0) return [];
  const ids = [...touched.keys()];
  const times = [...touched.values()].map((d) => d.toISOString());
  return [
    sql`UPDATE runs r SET
          tasks_pending = c.pending, tasks_active = c.active, tasks_succeeded = c.succeeded,
          tasks_failed = c.failed, tasks_skipped = c.skipped, tasks_cancelled = c.cancelled,
          updated_at = greatest(r.updated_at, u.at)
        FROM unnest(${ids}::text[], ${times}::timestamptz[]) AS u(id, at)
        CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE t.status = 'pending')::int AS pending,
                 count(*) FILTER (WHERE t.status IN ('queued', 'running', 'retry_wait'))::int AS active,
                 count(*) FILTER (WHERE t.status = 'succeeded')::int AS succeeded,
                 count(*) FILTER (WHERE t.status IN ('dead_lettered', 'upstream_failed'))::int AS failed,
                 count(*) FILTER (WHERE t.status = 'skipped')::int AS skipped,
                 count(*) FILTER (WHERE t.status = 'cancelled')::int AS cancelled
          FROM task_instances t WHERE t.run_id = u.id
        ) c
        WHERE r.id = u.id`.compile(compiler),
  ];
}

/**
 * Moves `stream_revision` of every DAG and run the batch touched to the revision of the batch's
 * last event of its stream (`dag-<id>`, `run-<id>`): what the API sends as their ETag. One
 * statement per table per batch, after the handlers, so a row created in the batch has it too.
 * Events of types the handlers skip count as well: the revision is the stream's, not the row's.
 */
export function refreshStreamRevisions(events: readonly RecordedEvent[]): CompiledQuery[] {
  const dags = new Map<string, number>();
  const runs = new Map<string, number>();
  for (const event of events) {
    const category = categoryOf(event.streamName);
    if (category === 'dag') dags.set(event.streamName.slice('dag-'.length), event.revision);
    else if (category === 'run') {
      const runId = runIdOfStream(event.streamName);
      if (runId !== undefined) runs.set(runId, event.revision);
    }
  }
  const update = (table: 'dags' | 'runs', revisions: Map<string, number>) =>
    sql`UPDATE ${sql.table(table)} AS t SET stream_revision = u.revision
        FROM unnest(${[...revisions.keys()]}::text[], ${[...revisions.values()]}::int[]) AS u(id, revision)
        WHERE t.id = u.id`.compile(compiler);
  return [...(dags.size > 0 ? [update('dags', dags)] : []), ...(runs.size > 0 ? [update('runs', runs)] : [])];
}
