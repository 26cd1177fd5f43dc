/**
 * `attempt-<runId>-<taskId>-<n>` events → `attempts`, the task instance, and the worker's
 * counters. A task instance follows an attempt only while it is that task's current attempt and
 * in the status `evolve` expects; a stray attempt (claimed after the run moved on) still gets its
 * `attempts` row, as it did run. A released attempt keeps its row too, closed as `released`.
 */
import { type CompiledQuery, type RawBuilder, sql } from 'kysely';
import type { AttemptEvent } from '../../events/schemas/index.js';
import { compiler } from '../database.js';
import type { AttemptStatus } from '../schema.js';
import { assertNever, boundedOutput, FINISHED_RUN_STATUSES, json } from './support.js';

/** The columns an outcome sets. */
interface Outcome {
  readonly status: AttemptStatus;
  readonly finished_at: string;
  readonly duration_ms: number | null;
  readonly exit_code: number | null;
  readonly http_status: number | null;
  readonly failure: string | null;
  readonly output: string | null;
  readonly abandoned_by_term: number | null;
}

/** The SQL that applies one attempt event; pure. */
export function projectAttemptEvent(event: AttemptEvent): CompiledQuery[] {
  const { runId, taskId, attempt } = event.data;
  const current = compiler
    .updateTable('task_instances')
    .where('run_id', '=', runId)
    .where('task_id', '=', taskId)
    .where('attempt', '=', attempt);
  const workerOf = sql<string>`(SELECT a.worker_id FROM attempts a
    WHERE a.run_id = ${runId} AND a.task_id = ${taskId} AND a.attempt = ${attempt})`;
  switch (event.type) {
    case 'AttemptStarted': {
      const { workerId, startedAt } = event.data;
      return [
        compiler
          .insertInto('attempts')
          .values({ ...emptyAttempt(runId, taskId, attempt), worker_id: workerId, started_at: startedAt })
          .onConflict((oc) => oc.columns(['run_id', 'task_id', 'attempt']).doNothing())
          .compile(),
        current
          .set({ status: 'running', started_at: startedAt, worker_id: workerId })
          .where('status', '=', 'queued')
          .where(
            sql<boolean>`NOT EXISTS (SELECT 1 FROM runs r
              WHERE r.id = ${runId} AND r.status IN (${sql.join(FINISHED_RUN_STATUSES)}))`,
          )
          .compile(),
        compiler
          .insertInto('workers')
          .values({
            id: workerId,
            status: 'active',
            info: null,
            joined_at: null,
            left_at: null,
            lost_at: null,
            first_seen_at: startedAt,
            last_seen_at: startedAt,
            attempts_started: 1,
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              attempts_started: sql`workers.attempts_started + 1`,
              first_seen_at: sql`least(workers.first_seen_at, excluded.first_seen_at)`,
              last_seen_at: sql`greatest(workers.last_seen_at, excluded.last_seen_at)`,
            }),
          )
          .compile(),
      ];
    }
    case 'AttemptSucceeded': {
      const { finishedAt, durationMs, exitCode, httpStatus, output } = event.data;
      return [
        recordOutcome(runId, taskId, attempt, {
          status: 'succeeded',
          finished_at: finishedAt,
          duration_ms: durationMs,
          exit_code: exitCode ?? null,
          http_status: httpStatus ?? null,
          failure: null,
          output: output === undefined ? null : boundedOutput(output),
          abandoned_by_term: null,
        }),
        current
          .set({ status: 'succeeded', finished_at: finishedAt })
          .where('status', '=', 'running')
          .compile(),
        compiler
          .updateTable('workers')
          .set({
            attempts_succeeded: sql`attempts_succeeded + 1`,
            last_seen_at: sql`greatest(last_seen_at, ${finishedAt}::timestamptz)`,
          })
          .where('id', '=', workerOf)
          .compile(),
      ];
    }
    case 'AttemptFailed': {
      const { finishedAt, durationMs, exitCode, httpStatus, failure } = event.data;
      return [
        recordOutcome(runId, taskId, attempt, {
          status: 'failed',
          finished_at: finishedAt,
          duration_ms: durationMs,
          exit_code: exitCode ?? failure.exitCode ?? null,
          http_status: httpStatus ?? failure.httpStatus ?? null,
          failure: json(failure),
          output: null,
          abandoned_by_term: null,
        }),
        // The task stays running until the scheduler decides (retry or dead-letter), as in evolve.
        current
          .set({ last_error: json(failure) })
          .where('status', '=', 'running')
          .compile(),
        compiler
          .updateTable('workers')
          .set({
            attempts_failed: sql`attempts_failed + 1`,
            last_seen_at: sql`greatest(last_seen_at, ${finishedAt}::timestamptz)`,
          })
          .where('id', '=', workerOf)
          .compile(),
      ];
    }
    case 'AttemptAbandoned': {
      const { failure, term, abandonedAt } = event.data;
      const lost = failure.kind === 'worker_lost';
      return [
        recordOutcome(
          runId,
          taskId,
          attempt,
          {
            status: 'abandoned',
            finished_at: abandonedAt,
            duration_ms: null,
            exit_code: null,
            http_status: null,
            failure: json(failure),
            output: null,
            abandoned_by_term: term ?? null,
          },
          // How long it ran before it was given up on (the event does not say).
          sql<number>`extract(epoch FROM (${abandonedAt}::timestamptz - attempts.started_at)) * 1000`,
        ),
        current
          .set({ last_error: json(failure) })
          .where('status', '=', 'running')
          .compile(),
        compiler
          .updateTable('workers')
          .set({
            attempts_abandoned: sql`attempts_abandoned + 1`,
            // The leader declaring a worker lost is the only news of its death the log has yet.
            ...(lost ? { status: 'lost', lost_at: sql`coalesce(lost_at, ${abandonedAt}::timestamptz)` } : {}),
          })
          .where('id', '=', workerOf)
          .compile(),
      ];
    }
    case 'AttemptReleased': {
      const { releasedAt } = event.data;
      return [
        // Closed without running: no duration, no failure. The reason stays in the log (no column
        // of `attempts` is meant for it; `failure` holds task failures).
        recordOutcome(runId, taskId, attempt, {
          status: 'released',
          finished_at: releasedAt,
          duration_ms: null,
          exit_code: null,
          http_status: null,
          failure: null,
          output: null,
          abandoned_by_term: null,
        }),
        // Back to pending, as in evolve: the scheduler queues the next attempt at once.
        current
          .set({ status: 'pending', started_at: null, worker_id: null })
          .where('status', '=', 'running')
          .compile(),
        // Not counted (it neither ran nor failed), but it is news that the worker is alive.
        compiler
          .updateTable('workers')
          .set({ last_seen_at: sql`greatest(last_seen_at, ${releasedAt}::timestamptz)` })
          .where('id', '=', workerOf)
          .compile(),
      ];
    }
    default:
      return assertNever(event);
  }
}

function emptyAttempt(runId: string, taskId: string, attempt: number) {
  return {
    run_id: runId,
    task_id: taskId,
    attempt,
    worker_id: null,
    status: 'running' as const,
    started_at: null,
    finished_at: null,
    duration_ms: null,
    exit_code: null,
    http_status: null,
    failure: null,
    output: null,
    abandoned_by_term: null,
  };
}

/**
 * Upsert: an outcome normally updates its AttemptStarted row; the insert is only a safety net.
 * `duration` replaces the outcome's duration on update, when it derives from the stored row.
 */
function recordOutcome(
  runId: string,
  taskId: string,
  attempt: number,
  outcome: Outcome,
  duration?: RawBuilder<number>,
): CompiledQuery {
  return compiler
    .insertInto('attempts')
    .values({ ...emptyAttempt(runId, taskId, attempt), ...outcome })
    .onConflict((oc) =>
      oc
        .columns(['run_id', 'task_id', 'attempt'])
        .doUpdateSet(duration ? { ...outcome, duration_ms: duration } : outcome),
    )
    .compile();
}
