/**
 * Turns a validated spec into a {@link NormalizedDag}: defaults laid under every task, durations
 * in milliseconds, sets sorted, and the graph's order and adjacency computed once for everyone
 * downstream (scheduler, projections, API).
 */
import {
  FAILURE_KINDS,
  type NormalizedDag,
  type NormalizedHttpTask,
  type NormalizedParam,
  type NormalizedRetry,
  type NormalizedTask,
  TASK_DEFAULTS,
} from './normalized.js';
import type { DagSpec, RetrySpec, TaskSpec } from './schema.js';
import type { ValidSpec } from './validate-spec.js';

/** A sorted copy without duplicates (code-unit order, independent of locale). */
function sortedUnique(values: readonly string[]): string[] {
  const sorted = values.slice().sort(compareCodeUnits);
  let kept = 0;
  for (let i = 0; i < sorted.length; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[kept++] = sorted[i]!;
  sorted.length = kept;
  return sorted;
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the normalized DAG; `order` is the topological order as task indexes. */
export function normalizeSpec(spec: ValidSpec, order: readonly number[]): NormalizedDag {
  const { dag, tasks } = spec;
  const normalizedTasks = tasks.map((task) => normalizeTask(task, dag));
  const indexOf = new Map(normalizedTasks.map((task, index) => [task.id, index]));
  // Dependencies are already unique per task, so each downstream list only needs sorting.
  const dependents: string[][] = normalizedTasks.map(() => []);
  for (const task of normalizedTasks) {
    for (const dependency of task.dependencies) dependents[indexOf.get(dependency)!]!.push(task.id);
  }
  const downstream: Record<string, string[]> = {};
  normalizedTasks.forEach((task, index) => {
    downstream[task.id] = dependents[index]!.sort(compareCodeUnits);
  });
  return {
    schemaVersion: 1,
    name: dag.name,
    description: dag.description ?? null,
    params: normalizeParams(dag),
    tasks: normalizedTasks,
    topologicalOrder: order.map((index) => normalizedTasks[index]!.id),
    downstream,
  };
}

function normalizeParams(dag: DagSpec): Record<string, NormalizedParam> {
  const params: Record<string, NormalizedParam> = {};
  for (const name of Object.keys(dag.params ?? {}).sort(compareCodeUnits)) {
    const param = dag.params![name]!;
    const type =
      param.type ??
      (param.default === undefined ? 'string' : (typeof param.default as NormalizedParam['type']));
    params[name] = {
      type,
      default: param.default ?? null,
      description: param.description ?? null,
      required: param.required ?? param.default === undefined,
    };
  }
  return params;
}

function normalizeRetry(own: RetrySpec | undefined, defaults: RetrySpec | undefined): NormalizedRetry {
  const base = TASK_DEFAULTS.retry;
  const retryOn = own?.retryOn ?? defaults?.retryOn ?? base.retryOn;
  return {
    maxAttempts: own?.maxAttempts ?? defaults?.maxAttempts ?? base.maxAttempts,
    backoff: own?.backoff ?? defaults?.backoff ?? base.backoff,
    initialDelayMs: own?.initialDelay ?? defaults?.initialDelay ?? base.initialDelayMs,
    maxDelayMs: own?.maxDelay ?? defaults?.maxDelay ?? base.maxDelayMs,
    jitter: own?.jitter ?? defaults?.jitter ?? base.jitter,
    // Kept in the canonical order of FAILURE_KINDS so that equal policies compare equal.
    retryOn: FAILURE_KINDS.filter((kind) => retryOn.includes(kind)),
  };
}

// The fields are written out for each type rather than spread from a shared object: V8 builds
// spread object literals in its slow path, and that alone was a third of the time for 10k tasks.
function normalizeTask(task: TaskSpec, dag: DagSpec): NormalizedTask {
  const defaults = dag.defaults;
  const id = task.id;
  const description = task.description ?? null;
  const dependencies = sortedUnique(task.dependencies ?? []);
  const timeoutMs = task.timeout ?? defaults?.timeout ?? TASK_DEFAULTS.timeoutMs;
  const retry = normalizeRetry(task.retry, defaults?.retry);
  const env = defaults?.env === undefined ? { ...task.env } : { ...defaults.env, ...task.env };
  const triggerRule = task.triggerRule ?? defaults?.triggerRule ?? TASK_DEFAULTS.triggerRule;
  const labels = sortedUnique(task.labels ?? []);
  switch (task.type) {
    case 'shell':
      return {
        id,
        type: 'shell',
        description,
        dependencies,
        timeoutMs,
        retry,
        env,
        triggerRule,
        labels,
        command: Array.isArray(task.command) ? task.command.slice() : task.command,
        cwd: task.cwd ?? null,
      };
    case 'python':
      return {
        id,
        type: 'python',
        description,
        dependencies,
        timeoutMs,
        retry,
        env,
        triggerRule,
        labels,
        source:
          task.script !== undefined
            ? { kind: 'script', path: task.script }
            : { kind: 'code', code: task.code ?? '' },
        args: (task.args ?? []).slice(),
        cwd: task.cwd ?? null,
      };
    case 'http':
      return {
        id,
        type: 'http',
        description,
        dependencies,
        timeoutMs,
        retry,
        env,
        triggerRule,
        labels,
        method: task.method ?? TASK_DEFAULTS.httpMethod,
        url: task.url,
        headers: { ...task.headers },
        body: (task.body ?? null) as NormalizedHttpTask['body'],
        expectedStatus: task.expectedStatus ?? TASK_DEFAULTS.expectedStatus.map((range) => ({ ...range })),
      };
    case 'noop':
      return { id, type: 'noop', description, dependencies, timeoutMs, retry, env, triggerRule, labels };
    default: {
      const unexpected: never = task;
      throw new TypeError(`unknown task type in ${JSON.stringify(unexpected)}`);
    }
  }
}
