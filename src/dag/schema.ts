/**
 * Zod schemas of the spec as users write it (camelCase keys, durations as text). Objects are
 * strict, so every unknown key is reported; values whose failure zod would describe vaguely
 * go through {@link checked}, which carries our own message and issue kind.
 *
 * Tasks are not part of {@link dagSpecSchema}: each one is parsed on its own with the schema of
 * its `type` (see validate-spec.ts), which is faster than a union over 10,000 tasks and lets a
 * task with a bad `type` still be checked for everything else.
 */
import { z } from 'zod';
import type { DagIssueKind } from './issues.js';
import { BACKOFF_KINDS, FAILURE_KINDS, PARAM_TYPES, type TaskType, TRIGGER_RULES } from './normalized.js';
import {
  type CheckResult,
  checkBody,
  checkCommand,
  checkDuration,
  checkEnvName,
  checkExpectedStatus,
  checkHeaderName,
  checkId,
  checkJitter,
  checkMethod,
  checkParamName,
  checkScalar,
  checkUrl,
} from './value-checks.js';

/** The params of a custom zod issue raised by {@link checked} or {@link userMap}. */
export interface CheckedIssueParams {
  readonly kind: DagIssueKind;
  /** The issue is about a mapping key: point at the key, and word the message for its mapping. */
  readonly atKey?: boolean;
}

/** A zod schema that runs `check` and reports its failure with our message and kind. */
export function checked<T>(check: (value: unknown) => CheckResult<T>) {
  return z.unknown().transform((value, ctx): T => {
    // Reached with `undefined` only when the field is required (optional() skips the check).
    if (value === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: '',
        params: { kind: 'missing_field' } satisfies CheckedIssueParams,
      });
      return z.NEVER;
    }
    const result = check(value);
    if (result.ok) return result.value;
    ctx.addIssue({
      code: 'custom',
      message: result.message,
      params: { kind: result.kind } satisfies CheckedIssueParams,
    });
    return z.NEVER;
  });
}

/**
 * A mapping with user-chosen keys (env, headers, params). zod's record silently skips a
 * `__proto__` key (assigning one would replace the prototype), so it is refused here, loudly.
 */
function userMap<V extends z.ZodType>(
  what: string,
  checkKey: (value: unknown) => CheckResult<string>,
  value: V,
) {
  return z.preprocess(
    (input, ctx) => {
      if (input !== null && typeof input === 'object' && Object.hasOwn(input, '__proto__')) {
        ctx.addIssue({
          code: 'custom',
          path: ['__proto__'],
          message: `'__proto__' cannot be used as ${what}`,
          params: { kind: 'invalid_value', atKey: true } satisfies CheckedIssueParams,
        });
      }
      return input;
    },
    z.record(checked(checkKey), value),
  );
}

const text = z.string().min(1);
const timeout = checked(checkDuration(false));
const delay = checked(checkDuration(true));

/** `retry:` as written, in a task or in `defaults`. */
export const retrySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  backoff: z.enum(BACKOFF_KINDS).optional(),
  initialDelay: delay.optional(),
  maxDelay: delay.optional(),
  jitter: checked(checkJitter).optional(),
  retryOn: z.array(z.enum(FAILURE_KINDS)).optional(),
});

const envSchema = userMap('an environment variable name', checkEnvName, z.string());
const triggerRule = z.enum(TRIGGER_RULES);

const commonTaskShape = {
  id: checked(checkId('task id')),
  description: z.string().optional(),
  dependencies: z.array(z.string()).optional(),
  timeout: timeout.optional(),
  retry: retrySchema.optional(),
  env: envSchema.optional(),
  triggerRule: triggerRule.optional(),
  labels: z.array(text).optional(),
};

const shellShape = {
  command: checked(checkCommand),
  cwd: text.optional(),
};

const pythonShape = {
  script: text.optional(),
  code: text.optional(),
  args: z.array(z.string()).optional(),
  cwd: text.optional(),
};

const httpShape = {
  method: checked(checkMethod).optional(),
  url: checked(checkUrl),
  headers: userMap('a header name', checkHeaderName, z.string()).optional(),
  body: checked(checkBody).optional(),
  expectedStatus: checked(checkExpectedStatus).optional(),
};

/** A task of each type as written; `type` selects the schema (see {@link TASK_SCHEMAS}). */
export const shellTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.literal('shell'),
  ...shellShape,
});
export const pythonTaskSchema = z.strictObject({
  ...commonTaskShape,
  type: z.literal('python'),
  ...pythonShape,
});
export const httpTaskSchema = z.strictObject({ ...commonTaskShape, type: z.literal('http'), ...httpShape });
/** A task that does nothing on a worker and succeeds (Airflow's EmptyOperator): joins, markers, benchmarks. */
export const noopTaskSchema = z.strictObject({ ...commonTaskShape, type: z.literal('noop') });

/**
 * For a task whose `type` is missing or unknown: every field of every type, all optional, so
 * that its other problems (a bad timeout, a misspelt key) are still reported.
 */
export const untypedTaskSchema = z.strictObject({
  ...commonTaskShape,
  ...shellShape,
  ...pythonShape,
  ...httpShape,
  type: z.unknown(),
  command: shellShape.command.optional(),
  url: httpShape.url.optional(),
});

/** The schema for each task type. */
export const TASK_SCHEMAS = {
  shell: shellTaskSchema,
  python: pythonTaskSchema,
  http: httpTaskSchema,
  noop: noopTaskSchema,
} as const;

/** A param is a mapping, or a bare scalar as shorthand for its default (`region: eu-west-1`). */
const paramSchema = z.preprocess(
  (value) => (value === null || typeof value !== 'object' ? { default: value ?? undefined } : value),
  z.strictObject({
    type: z.enum(PARAM_TYPES).optional(),
    default: checked(checkScalar).optional(),
    description: z.string().optional(),
    required: z.boolean().optional(),
  }),
);

/** `defaults:`, laid under every task's own settings. */
export const defaultsSchema = z.strictObject({
  timeout: timeout.optional(),
  retry: retrySchema.optional(),
  env: envSchema.optional(),
  triggerRule: triggerRule.optional(),
});

/** The DAG without its tasks, which are checked one by one. */
export const dagSpecSchema = z.strictObject({
  name: checked(checkId('DAG name')),
  description: z.string().optional(),
  params: userMap('a param name', checkParamName, paramSchema).optional(),
  defaults: defaultsSchema.optional(),
  tasks: z.unknown().optional(),
});

/** zod outputs: the spec as validated, before defaults are filled in. */
export type RetrySpec = z.output<typeof retrySchema>;
export type ShellTaskSpec = z.output<typeof shellTaskSchema>;
export type PythonTaskSpec = z.output<typeof pythonTaskSchema>;
export type HttpTaskSpec = z.output<typeof httpTaskSchema>;
export type NoopTaskSpec = z.output<typeof noopTaskSchema>;
export type TaskSpec = ShellTaskSpec | PythonTaskSpec | HttpTaskSpec | NoopTaskSpec;
export type DagSpec = z.output<typeof dagSpecSchema>;

/** The keys each kind of mapping accepts, for "did you mean" and "belongs to" hints. */
export const KNOWN_KEYS = {
  dag: Object.keys(dagSpecSchema.shape),
  defaults: Object.keys(defaultsSchema.shape),
  retry: Object.keys(retrySchema.shape),
  param: ['type', 'default', 'description', 'required'],
  task: {
    shell: Object.keys(shellTaskSchema.shape),
    python: Object.keys(pythonTaskSchema.shape),
    http: Object.keys(httpTaskSchema.shape),
    noop: Object.keys(noopTaskSchema.shape),
  } satisfies Record<TaskType, string[]>,
  untypedTask: Object.keys(untypedTaskSchema.shape),
} as const;
