/**
 * `run-<runId>` events → `runs`, `task_instances` and `dlq_items`. Each case mirrors the same
 * case of the scheduler's `evolve` (src/scheduler/core/evolve.ts), conditions included, so the
 * read model shows the statuses the scheduler acts on. Run counters are not touched here: the
 * projector recounts them once per batch (see summary.ts).
 */
import { type CompiledQuery, sql } from 'kysely';
import type { RunEvent } from '../../events/schemas/index.js';
import { compiler } from '../database.js';
import { assertNever, dlqItemId, FINISHED_RUN_STATUSES, json, TERMINAL_TASK_STATUSES } from './support.js';

/** What a run event carries beyond its payload. */
export interface RunEventContext {
  readonly runId: string;
  /** When the store recorded the event: the time of decisions whose payload has none. */
  readonly recordedAt: string;
  readonly correlationId: string;
}

/** The SQL that applies one run event; pure. */
export function projectRunEvent(event: RunEvent, ctx: RunEventContext): CompiledQuery[] {
  const { runId } = ctx;
  const task = (taskId: string) =>
    compiler.updateTable('task_instances').where('run_id', '=', runId).where('task_id', '=', taskId);
  switch (event.type) {
    case 'RunRequested': {
      const { dagId, dagVersion, params, idempotencyKey, requestedAt } = event.data;
      return [
        compiler
          .insertInto('runs')
          .values({
            id: runId,
            dag_id: dagId,
            dag_version: dagVersion,
            status: 'queued',
            params: json(params),
            idempotency_key: idempotencyKey ?? null,
            correlation_id: ctx.correlationId,
            cancel_reason: null,
            requested_at: requestedAt,
            updated_at: requestedAt,
            tasks_total: sql<number>`coalesce((SELECT cardinality(v.task_ids) FROM dag_versions v
              WHERE v.dag_id = ${dagId} AND v.version = ${dagVersion}), 0)`,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .compile(),
        // Every task exists from the start, pending, in the version's topological order.
        sql`INSERT INTO task_instances (run_id, task_id, position, status)
            SELECT ${runId}, t.task_id, t.ord - 1, 'pending'
            FROM dag_versions v CROSS JOIN LATERAL unnest(v.task_ids) WITH ORDINALITY AS t(task_id, ord)
            WHERE v.dag_id = ${dagId} AND v.version = ${dagVersion}
            ON CONFLICT DO NOTHING`.compile(compiler),
      ];
    }
    case 'TaskQueued': {
      const { taskId, attempt, queuedAt } = event.data;
      return [
        task(taskId)
          .set({
            status: 'queued',
            attempt,
            queued_at: queuedAt,
            retry_at: null,
            started_at: null,
            finished_at: null,
            worker_id: null,
          })
          .compile(),
        compiler
          .updateTable('runs')
          .set({ status: 'running', started_at: queuedAt })
          .where('id', '=', runId)
          .where('status', '=', 'queued')
          .compile(),
      ];
    }
    case 'TaskSkipped':
      return [
        task(event.data.taskId)
          .set({ status: 'skipped', skip_reason: event.data.reason, finished_at: ctx.recordedAt })
          .where('status', '=', 'pending')
          .compile(),
      ];
    case 'TaskUpstreamFailed':
      return [
        task(event.data.taskId)
          .set({ status: 'upstream_failed', finished_at: ctx.recordedAt })
          .where('status', '=', 'pending')
          .compile(),
      ];
    case 'TaskRetryScheduled': {
      const { taskId, failure, retryAt } = event.data;
      return [
        task(taskId)
          .set({ status: 'retry_wait', last_error: json(failure), retry_at: retryAt })
          .compile(),
      ];
    }
    case 'TaskDeadLettered': {
      const { taskId, attempt, failure, deadLetteredAt } = event.data;
      return [
        task(taskId)
          .set({
            status: 'dead_lettered',
            last_error: json(failure),
            retry_at: null,
            finished_at: deadLetteredAt,
          })
          .compile(),
        compiler
          .insertInto('dlq_items')
          .values({
            id: dlqItemId(runId, taskId, attempt),
            run_id: runId,
            dag_id: sql<string>`(SELECT r.dag_id FROM runs r WHERE r.id = ${runId})`,
            task_id: taskId,
            attempt,
            failure: json(failure),
            status: 'open',
            dead_lettered_at: deadLetteredAt,
            closed_at: null,
          })
          .onConflict((oc) => oc.column('id').doNothing())
          .compile(),
      ];
    }
    case 'TaskRequeued':
      return requeue(runId, event.data.taskId, event.data.requeuedAt);
    case 'DeadLetterDiscarded': {
      const { taskId, attempt, discardedAt } = event.data;
      return [
        compiler
          .updateTable('dlq_items')
          .set({ status: 'discarded', closed_at: discardedAt })
          .where('id', '=', dlqItemId(runId, taskId, attempt))
          .where('status', '=', 'open')
          .compile(),
      ];
    }
    case 'RunCancelRequested':
      return [
        compiler
          .updateTable('runs')
          .set({ cancel_requested: true, cancel_reason: event.data.reason ?? null })
          .where('id', '=', runId)
          .compile(),
      ];
    case 'RunSucceeded':
    case 'RunFailed':
      return [
        finishRun(runId, event.type === 'RunSucceeded' ? 'succeeded' : 'failed', event.data.finishedAt),
      ];
    case 'RunCancelled': {
      const { finishedAt } = event.data;
      return [
        finishRun(runId, 'cancelled', finishedAt),
        compiler
          .updateTable('task_instances')
          .set({ status: 'cancelled', finished_at: finishedAt })
          .where('run_id', '=', runId)
          .where('status', 'not in', TERMINAL_TASK_STATUSES)
          .compile(),
      ];
    }
    default:
      return assertNever(event);
  }
}

function finishRun(runId: string, status: 'succeeded' | 'failed' | 'cancelled', at: string): CompiledQuery {
  return compiler.updateTable('runs').set({ status, finished_at: at }).where('id', '=', runId).compile();
}

/**
 * A DLQ retry, as `evolve`'s `requeue`: only a dead-lettered task is requeued; then the run
 * reopens, its open DLQ item closes as retried, the task goes back to pending, and so does every
 * downstream task reachable through upstream_failed ones. The statements run in this order
 * because the first two test the task's status before the third changes it.
 */
function requeue(runId: string, taskId: string, at: string): CompiledQuery[] {
  const deadLettered = sql<boolean>`EXISTS (SELECT 1 FROM task_instances t
    WHERE t.run_id = ${runId} AND t.task_id = ${taskId} AND t.status = 'dead_lettered')`;
  return [
    compiler
      .updateTable('runs')
      .set({ status: 'running', finished_at: null })
      .where('id', '=', runId)
      .where('status', 'in', FINISHED_RUN_STATUSES)
      .where(deadLettered)
      .compile(),
    compiler
      .updateTable('dlq_items')
      .set({ status: 'retried', closed_at: at })
      .where('run_id', '=', runId)
      .where('task_id', '=', taskId)
      .where('status', '=', 'open')
      .where(deadLettered)
      .compile(),
    // One statement sees one snapshot, so the walk reads the statuses from before the update —
    // as evolve's walk does. It expands only through upstream_failed tasks, like evolve's queue.
    sql`WITH RECURSIVE graph AS (
          SELECT v.spec -> 'downstream' AS downstream
          FROM runs r JOIN dag_versions v ON v.dag_id = r.dag_id AND v.version = r.dag_version
          WHERE r.id = ${runId}
        ), target AS (
          SELECT t.task_id FROM task_instances t
          WHERE t.run_id = ${runId} AND t.task_id = ${taskId} AND t.status = 'dead_lettered'
        ), reach(task_id) AS (
          SELECT d.task_id FROM target, graph,
            LATERAL jsonb_array_elements_text(graph.downstream -> target.task_id) AS d(task_id)
          UNION
          SELECT d.task_id FROM reach
            JOIN task_instances t ON t.run_id = ${runId} AND t.task_id = reach.task_id
              AND t.status = 'upstream_failed'
            CROSS JOIN graph
            CROSS JOIN LATERAL jsonb_array_elements_text(graph.downstream -> reach.task_id) AS d(task_id)
        )
        UPDATE task_instances t SET status = 'pending', finished_at = NULL, retry_at = NULL
        WHERE t.run_id = ${runId}
          AND (t.task_id IN (SELECT task_id FROM target)
            OR (t.status = 'upstream_failed' AND t.task_id IN (SELECT task_id FROM reach)))`.compile(
      compiler,
    ),
  ];
}
