/**
 * Checks the shape of a spec: the DAG-level fields with one schema, then every task with the
 * schema of its type, then the rules that span fields. Every problem is collected; nothing
 * stops at the first.
 */

import { formatDuration } from './duration.js';
import { type DraftIssue, describePath, describeValue, type PathSegment } from './issues.js';
import { PARAM_TYPES, type ParamType, TASK_DEFAULTS, TASK_TYPES, type TaskType } from './normalized.js';
import {
  type DagSpec,
  dagSpecSchema,
  KNOWN_KEYS,
  type RetrySpec,
  TASK_SCHEMAS,
  type TaskSpec,
  untypedTaskSchema,
} from './schema.js';
import { closestMatch, didYouMean } from './suggest.js';
import { translateZodIssues } from './zod-issues.js';

/** A spec that passed every shape check, as zod output (durations already in milliseconds). */
export interface ValidSpec {
  readonly dag: DagSpec;
  readonly tasks: readonly TaskSpec[];
}

/** What {@link validateSpec} found. */
export interface SpecValidation {
  readonly issues: readonly DraftIssue[];
  /** Present only when there are no issues. */
  readonly spec?: ValidSpec;
  /** The `tasks` list as written, when it is a list: graph checks run on it even if tasks are invalid. */
  readonly rawTasks: readonly unknown[];
}

const TYPE_SYNONYMS: Readonly<Record<string, TaskType>> = {
  bash: 'shell',
  sh: 'shell',
  command: 'shell',
  py: 'python',
  python3: 'python',
  request: 'http',
  https: 'http',
  webhook: 'http',
};

/** `target.push(...items)` without the argument-count limit (a hostile file can have 100k problems). */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const isTaskType = (value: unknown): value is TaskType => TASK_TYPES.includes(value as TaskType);

/** Validates a spec given as plain data (from YAML or JSON). */
export function validateSpec(input: unknown): SpecValidation {
  if (input === null || input === undefined) {
    const message = "the DAG is empty; it needs a 'name' and a list of 'tasks'";
    return { issues: [{ path: [], kind: 'empty_dag', message }], rawTasks: [] };
  }
  if (!isRecord(input)) {
    const message = `the DAG must be a mapping with 'name' and 'tasks', not ${describeValue(input)}`;
    return { issues: [{ path: [], kind: 'invalid_type', message }], rawTasks: [] };
  }

  const issues: DraftIssue[] = [];
  const top = dagSpecSchema.safeParse(input);
  if (!top.success) {
    append(issues, translateZodIssues(top.error.issues, { base: [], input, knownKeys: dagKeysAt }));
  }

  const rawTasks = input['tasks'];
  const taskList = Array.isArray(rawTasks) ? rawTasks : [];
  if (rawTasks === undefined || rawTasks === null) {
    const message = "the DAG has no tasks; add a 'tasks' list with at least one task";
    issues.push({ path: ['tasks'], kind: 'empty_dag', message });
  } else if (!Array.isArray(rawTasks)) {
    const message = `tasks: expected a list of tasks, got ${describeValue(rawTasks)}`;
    issues.push({ path: ['tasks'], kind: 'invalid_type', message });
  } else if (rawTasks.length === 0) {
    const message = 'tasks: the list is empty; a DAG needs at least one task';
    issues.push({ path: ['tasks'], kind: 'empty_dag', message });
  }

  const tasks: TaskSpec[] = [];
  for (let index = 0; index < taskList.length; index++) {
    const result = validateTask(taskList[index], index);
    append(issues, result.issues);
    if (result.task !== undefined) tasks.push(result.task);
  }

  append(issues, checkParams(input['params']));
  if (top.success && tasks.length === taskList.length) append(issues, checkRetryDelays(top.data, tasks));
  if (issues.length > 0 || !top.success) return { issues, rawTasks: taskList };
  return { issues, rawTasks: taskList, spec: { dag: top.data, tasks } };
}

function dagKeysAt(path: readonly PathSegment[]): readonly string[] {
  if (path.length === 0) return KNOWN_KEYS.dag;
  if (path[0] === 'defaults') return path.length === 1 ? KNOWN_KEYS.defaults : KNOWN_KEYS.retry;
  if (path[0] === 'params') return KNOWN_KEYS.param;
  return [];
}

function validateTask(raw: unknown, index: number): { issues: DraftIssue[]; task?: TaskSpec } {
  const base = ['tasks', index];
  const where = describePath(base);
  if (!isRecord(raw)) {
    const message = `${where}: expected a task (a mapping with 'id' and 'type'), got ${describeValue(raw)}`;
    return { issues: [{ path: base, kind: 'invalid_type', message }] };
  }
  const issues: DraftIssue[] = [];
  const type = raw['type'];
  const typed = isTaskType(type);
  if (!typed) issues.push(typeIssue(type, base));

  const knownTaskKeys = typed ? KNOWN_KEYS.task[type] : KNOWN_KEYS.untypedTask;
  const knownKeys = (path: readonly PathSegment[]): readonly string[] =>
    path.length === 0 ? knownTaskKeys : path[0] === 'retry' ? KNOWN_KEYS.retry : [];
  const unknownKeyHint = (path: readonly PathSegment[], key: string): string | undefined => {
    if (!typed || path.length > 0) return undefined;
    const owner = TASK_TYPES.find((other) => KNOWN_KEYS.task[other].includes(key));
    return owner === undefined
      ? undefined
      : `; '${key}' is a field of ${owner} tasks, and this task's type is '${type}'`;
  };

  const result = (typed ? TASK_SCHEMAS[type] : untypedTaskSchema).safeParse(raw);
  if (!result.success) {
    append(issues, translateZodIssues(result.error.issues, { base, input: raw, knownKeys, unknownKeyHint }));
  }
  if (type === 'python') {
    if (raw['script'] !== undefined && raw['code'] !== undefined) {
      const message = `${where}: set either 'script' (a file) or 'code' (inline source), not both`;
      issues.push({ path: [...base, 'code'], kind: 'conflicting_fields', at: 'key', message });
    } else if (raw['script'] === undefined && raw['code'] === undefined) {
      const message = `missing 'script' or 'code' in ${where}; a python task runs a script file or inline code`;
      issues.push({ path: [...base, 'script'], kind: 'missing_field', message });
    }
  }
  if (issues.length > 0 || !result.success) return { issues };
  return { issues, task: result.data as TaskSpec };
}

function typeIssue(type: unknown, base: readonly PathSegment[]): DraftIssue {
  const path = [...base, 'type'];
  const choices = TASK_TYPES.join(', ');
  if (type === undefined) {
    const message = `missing required field 'type' in ${describePath(base)}; use one of ${choices}`;
    return { path, kind: 'missing_field', message };
  }
  if (typeof type !== 'string') {
    const message = `${describePath(path)}: expected one of ${choices}, got ${describeValue(type)}`;
    return { path, kind: 'invalid_type', message };
  }
  const suggestion = TYPE_SYNONYMS[type.toLowerCase()] ?? closestMatch(type, TASK_TYPES);
  const message = `${describePath(path)}: '${type}' is not a task type; use one of ${choices}${didYouMean(suggestion)}`;
  return { path, kind: 'invalid_value', message };
}

/** Rules across a param's fields; on the data as written, so they hold even if other params are invalid. */
function checkParams(params: unknown): DraftIssue[] {
  const issues: DraftIssue[] = [];
  if (!isRecord(params)) return issues;
  for (const [name, param] of Object.entries(params)) {
    if (!isRecord(param)) continue; // a bare scalar is a default, and always fits its inferred type
    const base = ['params', name];
    const { type, default: value, required } = param;
    if (
      PARAM_TYPES.includes(type as ParamType) &&
      value !== undefined &&
      value !== null &&
      typeof value !== type
    ) {
      const path = [...base, 'default'];
      const message = `${describePath(path)}: expected a ${type} (the param's type), got ${describeValue(value)}`;
      issues.push({ path, kind: 'invalid_type', message });
    }
    if (required === true && value !== undefined && value !== null) {
      const message = `${describePath(base)}: a required param cannot have a default; remove 'required' or the default`;
      issues.push({ path: [...base, 'required'], kind: 'conflicting_fields', message });
    }
  }
  return issues;
}

/** `initialDelay` may not exceed `maxDelay`, once the task's retry is laid over the defaults. */
function checkRetryDelays(dag: DagSpec, tasks: readonly TaskSpec[]): DraftIssue[] {
  const issues: DraftIssue[] = [];
  const defaults: RetrySpec = dag.defaults?.retry ?? {};
  let reportedDefaults = false;
  tasks.forEach((task, index) => {
    const own: RetrySpec = task.retry ?? {};
    const initial = own.initialDelay ?? defaults.initialDelay ?? TASK_DEFAULTS.retry.initialDelayMs;
    const max = own.maxDelay ?? defaults.maxDelay ?? TASK_DEFAULTS.retry.maxDelayMs;
    if (initial <= max) return;
    const fromTask = own.initialDelay !== undefined || own.maxDelay !== undefined;
    if (!fromTask && reportedDefaults) return;
    reportedDefaults ||= !fromTask;
    const field = (fromTask ? own : defaults).initialDelay !== undefined ? 'initialDelay' : 'maxDelay';
    const path = fromTask ? ['tasks', index, 'retry', field] : ['defaults', 'retry', field];
    const message = `${describePath(path)}: the first retry delay (${formatDuration(initial)}) is longer than the longest allowed (maxDelay ${formatDuration(max)})`;
    issues.push({ path, kind: 'conflicting_fields', message });
  });
  return issues;
}
