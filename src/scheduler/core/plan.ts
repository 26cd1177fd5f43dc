/**
 * What the run state machine needs to know of a DAG version: each task's dependencies,
 * downstream, trigger rule, retry policy and timeout. Built once per DAG version.
 */
import type { NormalizedDag, NormalizedTask } from '../../dag/index.js';
import type { FailureKind } from '../../events/schemas/metadata.js';

export const triggerRules = [
  'all_success',
  'all_done',
  'all_failed',
  'one_success',
  'one_failed',
  'none_failed',
] as const;
export type TriggerRule = (typeof triggerRules)[number];

export interface RetryPolicy {
  /** Attempts in all, the first included; 1 means no retry. */
  readonly maxAttempts: number;
  readonly backoff: 'exponential' | 'linear' | 'fixed';
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** `full`: a uniform delay in [0, d]; `none`: exactly d; a number j in (0,1]: d·(1 − j·u). */
  readonly jitter: 'full' | 'none' | number;
  /** Failure kinds worth retrying; see `isRetryable` for the default. */
  readonly retryOn?: readonly FailureKind[] | undefined;
}

export interface PlannedTask {
  readonly id: string;
  readonly dependencies: readonly string[];
  readonly downstream: readonly string[];
  readonly triggerRule: TriggerRule;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
}

export interface RunPlan {
  /** Tasks in topological order. */
  readonly tasks: readonly PlannedTask[];
  readonly byId: ReadonlyMap<string, PlannedTask>;
}

export function createPlan(tasks: readonly Omit<PlannedTask, 'downstream'>[]): RunPlan {
  const downstream = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  for (const task of tasks) for (const dep of task.dependencies) downstream.get(dep)?.push(task.id);
  const planned = tasks.map((t) => ({ ...t, downstream: downstream.get(t.id) ?? [] }));
  return { tasks: planned, byId: new Map(planned.map((t) => [t.id, t])) };
}

/** The plan of a normalized DAG version (tasks in topological order). */
export function planFromDag(dag: NormalizedDag): RunPlan {
  const byId = new Map(dag.tasks.map((t) => [t.id, t]));
  return createPlan(
    dag.topologicalOrder.map((id) => {
      const t = byId.get(id) as NormalizedTask;
      return {
        id,
        dependencies: t.dependencies,
        triggerRule: t.triggerRule,
        timeoutMs: t.timeoutMs,
        retry: {
          maxAttempts: t.retry.maxAttempts,
          backoff: t.retry.backoff,
          initialDelayMs: t.retry.initialDelayMs,
          maxDelayMs: t.retry.maxDelayMs,
          jitter: t.retry.jitter,
          retryOn: t.retry.retryOn,
        },
      };
    }),
  );
}
