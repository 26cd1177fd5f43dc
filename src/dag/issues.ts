/**
 * The vocabulary of DAG validation problems, and the helpers that turn a draft issue (a path in
 * the input) into a located, sorted {@link DagIssue}. Every check in this folder produces drafts;
 * only this module decides how they are ordered, capped and presented.
 */
import type { ValidationIssue } from '../errors.js';

/** Every stable `kind` a DAG issue can have. Clients may switch on these; never rename one. */
export const DAG_ISSUE_KINDS = [
  // input and YAML safety
  'input_too_large',
  'too_deep',
  'yaml_syntax',
  'yaml_duplicate_key',
  'yaml_multiple_documents',
  'yaml_directive',
  'yaml_tag',
  'yaml_alias_limit',
  'yaml_nested_alias',
  'yaml_unknown_anchor',
  'yaml_complex_key',
  'yaml_merge_key',
  // shape
  'empty_dag',
  'unknown_field',
  'missing_field',
  'invalid_type',
  'invalid_value',
  'invalid_id',
  'invalid_duration',
  'invalid_url',
  'conflicting_fields',
  // graph
  'duplicate_task_id',
  'self_dependency',
  'unknown_dependency',
  'cycle',
  // presentation
  'too_many_issues',
] as const;

export type DagIssueKind = (typeof DAG_ISSUE_KINDS)[number];

/** A {@link ValidationIssue} whose kind is one of {@link DAG_ISSUE_KINDS}. */
export interface DagIssue extends ValidationIssue {
  readonly kind: DagIssueKind;
}

/** One step of a path into the data: a mapping key or a list index. */
export type PathSegment = string | number;

/** An issue before it is located in the source text. */
export interface DraftIssue {
  readonly path: readonly PathSegment[];
  readonly kind: DagIssueKind;
  readonly message: string;
  /** Point at the mapping key instead of its value (unknown, duplicate and invalid keys). */
  readonly at?: 'key' | 'value';
  /** An exact offset in the source, for problems found in the YAML itself. */
  readonly offset?: number;
}

/** A 1-based line and column in the source text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Finds where a path (or offset) is in the source text; absent for JSON input. */
export interface SourceLocator {
  /** The node at `path`, or its deepest existing ancestor when the path does not exist. */
  locate(path: readonly PathSegment[], at: 'key' | 'value'): Position | undefined;
  position(offset: number): Position;
}

/**
 * A report is capped so that one hostile or badly generated file cannot produce a response of
 * hundreds of thousands of lines; the first problems are the ones worth fixing anyway.
 */
export const MAX_ISSUES = 1000;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['tasks', 1, 'retry', 'maxAttempts']` → `tasks[1].retry.maxAttempts`; odd keys are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The phrase used for a location in messages: a path, or "the top level" for the root. */
export function describePath(path: readonly PathSegment[]): string {
  return path.length === 0 ? 'the top level' : formatPath(path);
}

/** Quotes a user-supplied string for a message, shortening very long ones. */
export function quote(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return `'${shown}'`;
}

/** A short English description of a value as the user wrote it, e.g. `'5 minutes'`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return value === '' ? 'an empty string' : quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** The value at `path` in plain data, if every step exists as an own property. */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

/**
 * Locates drafts, orders them by position in the source (document order is how people read a
 * file) and caps the list at {@link MAX_ISSUES}. Without a locator the input order is kept.
 */
export function finalizeIssues(drafts: readonly DraftIssue[], locator?: SourceLocator): DagIssue[] {
  const located = drafts.map((draft, order) => {
    const position =
      locator === undefined
        ? undefined
        : draft.offset !== undefined
          ? locator.position(draft.offset)
          : locator.locate(draft.path, draft.at ?? 'value');
    const issue: DagIssue = {
      path: formatPath(draft.path),
      message: draft.message,
      kind: draft.kind,
      ...(position === undefined ? {} : { line: position.line, column: position.column }),
    };
    return { issue, order };
  });
  located.sort(
    (a, b) =>
      (a.issue.line ?? Number.MAX_SAFE_INTEGER) - (b.issue.line ?? Number.MAX_SAFE_INTEGER) ||
      (a.issue.column ?? 0) - (b.issue.column ?? 0) ||
      a.order - b.order,
  );
  const issues = located.map((entry) => entry.issue);
  if (issues.length <= MAX_ISSUES) return issues;
  const shown = issues.slice(0, MAX_ISSUES);
  shown.push({
    path: '',
    kind: 'too_many_issues',
    message: `${issues.length - MAX_ISSUES} more problems were found but are not listed; fix the ones above first`,
  });
  return shown;
}

/** One line per issue: `file:line:column: message [kind]`, for error messages and the CLI. */
export function formatIssues(issues: readonly ValidationIssue[], fileName?: string): string {
  return issues
    .map((issue) => {
      const position = issue.line === undefined ? [] : [issue.line, issue.column ?? 1];
      const where = [...(fileName === undefined ? [] : [fileName]), ...position].join(':');
      return `${where === '' ? '' : `${where}: `}${issue.message} [${issue.kind}]`;
    })
    .join('\n');
}
