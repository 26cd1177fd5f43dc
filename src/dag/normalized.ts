/**
 * The normalized DAG: what a valid spec means once every default is filled in. It is a plain
 * JSON value (no Maps, classes or `undefined`; absent texts are `null`) so that it can be stored
 * in an event as it is, hashed with {@link canonicalJson}, and checked again on the way out of
 * the store with {@link normalizedDagSchema}.
 */
import { z } from 'zod';

/** The kinds of work a task can do; each has an executor in src/workers. */
export const TASK_TYPES = ['shell', 'python', 'http', 'noop'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** When a task may start, judged by the outcomes of its dependencies (Airflow's rules). */
export const TRIGGER_RULES = [
  'all_success',
  'all_done',
  'all_failed',
  'one_success',
  'one_failed',
  'none_failed',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/**
 * How the delay before attempt n+1 grows, from `initialDelayMs` (d) and capped at `maxDelayMs`:
 * exponential d·2^(n−1), linear d·n, fixed d.
 */
export const BACKOFF_KINDS = ['exponential', 'linear', 'fixed'] as const;
export type Backoff = (typeof BACKOFF_KINDS)[number];

/** The kinds of failure a retry policy can match; the workers classify every failure as one. */
export const FAILURE_KINDS = [
  'timeout',
  'exit_code',
  'signal',
  'http_status',
  'network',
  'worker_lost',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** The methods of RFC 9110 plus PATCH; a spec may write them in any case. */
export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The value types a DAG param can declare. */
export const PARAM_TYPES = ['string', 'number', 'boolean'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** Node timers overflow past 2^31−1 ms (≈24.8 days), so no duration may be longer than 24 days. */
export const MAX_DURATION_MS = 24 * 86_400_000;

/** What a task gets when neither it nor the DAG's `defaults` say otherwise. */
export const TASK_DEFAULTS = {
  timeoutMs: 3_600_000,
  triggerRule: 'all_success',
  retry: {
    maxAttempts: 1,
    backoff: 'exponential',
    initialDelayMs: 1_000,
    maxDelayMs: 300_000,
    jitter: 1,
    retryOn: FAILURE_KINDS,
  },
  httpMethod: 'GET',
  expectedStatus: [{ min: 200, max: 299 }],
} as const;

const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,127}$/);
const durationMs = z.number().int().min(0).max(MAX_DURATION_MS);
const stringMap = z.record(z.string(), z.string());

/** A task's retry policy with every default filled in; delays in milliseconds. */
export const normalizedRetrySchema = z.strictObject({
  /** Total attempts, the first one included; 1 means no retry. */
  maxAttempts: z.number().int().min(1),
  backoff: z.enum(BACKOFF_KINDS),
  initialDelayMs: durationMs,
  maxDelayMs: durationMs,
  /**
   * The share of each delay that is randomized: the scheduler waits d·(1 − jitter·r) with r
   * uniform in [0, 1). 1 (`full` in a spec) is AWS's "full jitter"; 0 (`none`) waits exactly d.
   */
  jitter: z.number().min(0).max(1),
  /** Failure kinds that are retried, in {@link FAILURE_KINDS} order; others fail the task at once. */
  retryOn: z.array(z.enum(FAILURE_KINDS)),
});

const taskBase = {
  id,
  description: z.string().nullable(),
  /** Ids of upstream tasks, sorted and without duplicates. */
  dependencies: z.array(id),
  timeoutMs: durationMs.min(1),
  retry: normalizedRetrySchema,
  /** `defaults.env` overlaid with the task's own `env`. */
  env: stringMap,
  triggerRule: z.enum(TRIGGER_RULES),
  /** Sorted, without duplicates. */
  labels: z.array(z.string()),
};

/** A `shell` task: a command line for `/bin/sh -c`, or an argv. */
export const normalizedShellTaskSchema = z.strictObject({
  ...taskBase,
  type: z.literal('shell'),
  /** A string is run with `/bin/sh -c`; a list is an argv run without a shell. */
  command: z.union([z.string(), z.array(z.string()).min(1)]),
  cwd: z.string().nullable(),
});

/** A `python` task: a script file or inline code, run by the configured interpreter. */
export const normalizedPythonTaskSchema = z.strictObject({
  ...taskBase,
  type: z.literal('python'),
  /** A script file to run, or inline code (`python -c`). */
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('script'), path: z.string() }),
    z.strictObject({ kind: z.literal('code'), code: z.string() }),
  ]),
  args: z.array(z.string()),
  cwd: z.string().nullable(),
});

/** An inclusive range of accepted HTTP statuses; `2xx` is `{ min: 200, max: 299 }`. */
export const statusRangeSchema = z.strictObject({
  min: z.number().int().min(100).max(599),
  max: z.number().int().min(100).max(599),
});

/** An `http` task: one request, successful when its status is in `expectedStatus`. */
export const normalizedHttpTaskSchema = z.strictObject({
  ...taskBase,
  type: z.literal('http'),
  method: z.enum(HTTP_METHODS),
  /** May contain `{{ … }}` placeholders, filled in when the run starts. */
  url: z.string(),
  headers: stringMap,
  /** A string is sent as it is; a mapping or list is sent as JSON. */
  body: z.union([z.string(), z.array(z.json()), z.record(z.string(), z.json())]).nullable(),
  /** Sorted, non-overlapping ranges. */
  expectedStatus: z.array(statusRangeSchema).min(1),
});

/** Any normalized task, told apart by `type`. */
/** Does nothing and succeeds; still claimed and reported by a worker like any task. */
export const normalizedNoopTaskSchema = z.strictObject({ ...taskBase, type: z.literal('noop') });

export const normalizedTaskSchema = z.discriminatedUnion('type', [
  normalizedShellTaskSchema,
  normalizedPythonTaskSchema,
  normalizedHttpTaskSchema,
  normalizedNoopTaskSchema,
]);

/** A declared run parameter: its type, default and whether a run must supply it. */
export const normalizedParamSchema = z.strictObject({
  type: z.enum(PARAM_TYPES),
  default: z.union([z.string(), z.number(), z.boolean()]).nullable(),
  description: z.string().nullable(),
  /** A run must supply a value: true by default for a param without a default. */
  required: z.boolean(),
});

/** Zod schema of {@link NormalizedDag}, for checking specs read back from the event store. */
export const normalizedDagSchema = z.strictObject({
  /** Bumped when this shape changes, so stored events can be upcast. */
  schemaVersion: z.literal(1),
  name: id,
  description: z.string().nullable(),
  params: z.record(z.string(), normalizedParamSchema),
  /** In declaration order. */
  tasks: z.array(normalizedTaskSchema).min(1),
  /** Every task id once; dependencies first, ties broken by declaration order. */
  topologicalOrder: z.array(id),
  /** Every task id → ids of the tasks that depend on it, sorted. */
  downstream: z.record(z.string(), z.array(id)),
});

export type NormalizedRetry = z.infer<typeof normalizedRetrySchema>;
export type StatusRange = z.infer<typeof statusRangeSchema>;
export type NormalizedShellTask = z.infer<typeof normalizedShellTaskSchema>;
export type NormalizedPythonTask = z.infer<typeof normalizedPythonTaskSchema>;
export type NormalizedHttpTask = z.infer<typeof normalizedHttpTaskSchema>;
export type NormalizedNoopTask = z.infer<typeof normalizedNoopTaskSchema>;
/** One task of a {@link NormalizedDag}; switch on `type`. */
export type NormalizedTask = z.infer<typeof normalizedTaskSchema>;
export type NormalizedParam = z.infer<typeof normalizedParamSchema>;
/** A validated DAG with every default filled in: a plain JSON value, safe to store in an event. */
export type NormalizedDag = z.infer<typeof normalizedDagSchema>;
