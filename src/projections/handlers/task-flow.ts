/**
 * The hot path of a running system — a task queued, its attempt started, its attempt succeeded —
 * applied set-wise: one statement per table for a whole group of such events, where the
 * per-event handlers (run.ts, attempt.ts) run three statements per event. At 1,000 tasks/s that
 * is ~8,000 statements a second against a few dozen, and the projector keeps up.
 *
 * Each statement here does for its group exactly what the per-event statements do one by one,
 * given what batch-plan.ts guarantees of a group: no two of its events are of the same task, and
 * they are applied queued → started → succeeded. Then no row is written twice by one statement,
 * counters add up (`count(*)` instead of `+ 1` per event), `least`/`greatest` fold the same, and
 * where the per-event SQL lets the first event win (a run's `started_at`), the first one is
 * picked here too. Pure: the queries are compiled, not run.
 */
import { type CompiledQuery, sql } from 'kysely';
import type { AttemptEvent, RunEvent } from '../../events/schemas/index.js';
import { compiler } from '../database.js';
import { boundedOutput, FINISHED_RUN_STATUSES } from './support.js';

export type TaskQueued = Extract<RunEvent, { type: 'TaskQueued' }> & { readonly runId: string };
export type AttemptStarted = Extract<AttemptEvent, { type: 'AttemptStarted' }>;
export type AttemptSucceeded = Extract<AttemptEvent, { type: 'AttemptSucceeded' }>;

/** TaskQueued of several tasks, as run.ts applies each. */
export function queueTasks(events: readonly TaskQueued[]): CompiledQuery[] {
  const firstOfRun = new Map<string, string>();
  for (const e of events) if (!firstOfRun.has(e.runId)) firstOfRun.set(e.runId, e.data.queuedAt);
  return [
    sql`UPDATE task_instances t SET status = 'queued', attempt = u.attempt, queued_at = u.queued_at,
          retry_at = NULL, started_at = NULL, finished_at = NULL, worker_id = NULL
        FROM unnest(${events.map((e) => e.runId)}::text[], ${events.map((e) => e.data.taskId)}::text[],
                    ${events.map((e) => e.data.attempt)}::int[], ${events.map((e) => e.data.queuedAt)}::timestamptz[])
          AS u(run_id, task_id, attempt, queued_at)
        WHERE t.run_id = u.run_id AND t.task_id = u.task_id`.compile(compiler),
    // A run starts with its first task queued; later ones find it running and change nothing.
    sql`UPDATE runs r SET status = 'running', started_at = u.queued_at
        FROM unnest(${[...firstOfRun.keys()]}::text[], ${[...firstOfRun.values()]}::timestamptz[])
          AS u(id, queued_at)
        WHERE r.id = u.id AND r.status = 'queued'`.compile(compiler),
  ];
}

/** AttemptStarted of several tasks, as attempt.ts applies each. */
export function startAttempts(events: readonly AttemptStarted[]): CompiledQuery[] {
  const runs = events.map((e) => e.data.runId);
  const tasks = events.map((e) => e.data.taskId);
  const attempts = events.map((e) => e.data.attempt);
  const workers = events.map((e) => e.data.workerId);
  const startedAt = events.map((e) => e.data.startedAt);
  const started = sql`unnest(${runs}::text[], ${tasks}::text[], ${attempts}::int[], ${workers}::text[],
    ${startedAt}::timestamptz[]) AS u(run_id, task_id, attempt, worker_id, started_at)`;
  return [
    sql`INSERT INTO attempts (run_id, task_id, attempt, worker_id, status, started_at)
        SELECT u.run_id, u.task_id, u.attempt, u.worker_id, 'running', u.started_at FROM ${started}
        ON CONFLICT (run_id, task_id, attempt) DO NOTHING`.compile(compiler),
    sql`UPDATE task_instances t SET status = 'running', started_at = u.started_at, worker_id = u.worker_id
        FROM ${started}
        WHERE t.run_id = u.run_id AND t.task_id = u.task_id AND t.attempt = u.attempt AND t.status = 'queued'
          AND NOT EXISTS (SELECT 1 FROM runs r
            WHERE r.id = u.run_id AND r.status IN (${sql.join(FINISHED_RUN_STATUSES)}))`.compile(compiler),
    sql`INSERT INTO workers (id, status, first_seen_at, last_seen_at, attempts_started)
        SELECT u.worker_id, 'active', min(u.started_at), max(u.started_at), count(*)::int FROM ${started}
        GROUP BY u.worker_id
        ON CONFLICT (id) DO UPDATE SET
          attempts_started = workers.attempts_started + excluded.attempts_started,
          first_seen_at = least(workers.first_seen_at, excluded.first_seen_at),
          last_seen_at = greatest(workers.last_seen_at, excluded.last_seen_at)`.compile(compiler),
  ];
}

/** AttemptSucceeded of several tasks, as attempt.ts applies each. */
export function succeedAttempts(events: readonly AttemptSucceeded[]): CompiledQuery[] {
  const d = events.map((e) => e.data);
  const succeeded = sql`unnest(${d.map((x) => x.runId)}::text[], ${d.map((x) => x.taskId)}::text[],
    ${d.map((x) => x.attempt)}::int[], ${d.map((x) => x.finishedAt)}::timestamptz[],
    ${d.map((x) => x.durationMs)}::float8[], ${d.map((x) => x.exitCode ?? null)}::int[],
    ${d.map((x) => x.httpStatus ?? null)}::int[],
    ${d.map((x) => (x.output === undefined ? null : boundedOutput(x.output)))}::text[])
    AS u(run_id, task_id, attempt, finished_at, duration_ms, exit_code, http_status, output)`;
  return [
    // An outcome normally updates its AttemptStarted row; the insert is only a safety net.
    sql`INSERT INTO attempts AS a (run_id, task_id, attempt, worker_id, status, started_at, finished_at,
          duration_ms, exit_code, http_status, failure, output, abandoned_by_term)
        SELECT u.run_id, u.task_id, u.attempt, NULL, 'succeeded', NULL, u.finished_at, u.duration_ms,
          u.exit_code, u.http_status, NULL, u.output::jsonb, NULL FROM ${succeeded}
        ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET
          status = excluded.status, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
          exit_code = excluded.exit_code, http_status = excluded.http_status, failure = excluded.failure,
          output = excluded.output, abandoned_by_term = excluded.abandoned_by_term`.compile(compiler),
    sql`UPDATE task_instances t SET status = 'succeeded', finished_at = u.finished_at
        FROM ${succeeded}
        WHERE t.run_id = u.run_id AND t.task_id = u.task_id AND t.attempt = u.attempt
          AND t.status = 'running'`.compile(compiler),
    sql`UPDATE workers w SET attempts_succeeded = w.attempts_succeeded + g.n,
          last_seen_at = greatest(w.last_seen_at, g.last_at)
        FROM (SELECT a.worker_id, count(*)::int AS n, max(u.finished_at) AS last_at
                FROM ${succeeded}
                JOIN attempts a ON a.run_id = u.run_id AND a.task_id = u.task_id AND a.attempt = u.attempt
               GROUP BY a.worker_id) g
        WHERE w.id = g.worker_id`.compile(compiler),
  ];
}
