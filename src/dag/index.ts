/**
 * YAML (or JSON) → validated, normalized DAG. Pure: no I/O, no clock, no randomness.
 *
 * ```ts
 * const result = parseDag(text, { fileName: 'etl.yaml' });
 * if (!result.ok) for (const issue of result.issues) console.log(issue.line, issue.message);
 * ```
 */
import { ValidationError } from '../errors.js';
import { checkGraph } from './graph-checks.js';
import {
  type DagIssue,
  type DraftIssue,
  finalizeIssues,
  formatIssues,
  type PathSegment,
  type SourceLocator,
} from './issues.js';
import { normalizeSpec } from './normalize.js';
import type { NormalizedDag } from './normalized.js';
import { validateSpec } from './validate-spec.js';
import { DEFAULT_YAML_LIMITS, readYaml, type YamlLimits } from './yaml-safety.js';

export { canonicalJson } from './canonical-json.js';
export { type DurationResult, formatDuration, parseDuration, tryParseDuration } from './duration.js';
export { DAG_ISSUE_KINDS, type DagIssue, type DagIssueKind, formatIssues, MAX_ISSUES } from './issues.js';
export * from './normalized.js';
export { DEFAULT_YAML_LIMITS, type YamlLimits } from './yaml-safety.js';

/** Options of {@link parseDag}: the {@link YamlLimits} plus a file name for messages. */
export interface ParseDagOptions extends YamlLimits {
  /** Shown in the message of {@link parseDagOrThrow}; issues themselves carry no file name. */
  readonly fileName?: string;
}

/** The outcome of parsing: the DAG, or every problem found, located and in document order. */
export type ParseResult =
  | { readonly ok: true; readonly dag: NormalizedDag }
  | { readonly ok: false; readonly issues: DagIssue[] };

/**
 * Parses YAML text into a normalized DAG, refusing unsafe YAML (see yaml-safety.ts) and
 * reporting every problem with its path, line and column.
 */
export function parseDag(source: string, options: ParseDagOptions = {}): ParseResult {
  const read = readYaml(source, options);
  if (!read.ok) return { ok: false, issues: finalizeIssues(read.issues, read.locator) };
  return validateAndNormalize(read.value, read.locator);
}

/**
 * Like {@link parseDag}, but returns the DAG or throws.
 * @throws ValidationError whose message lists every issue, one per line, and whose `issues` holds them.
 */
export function parseDagOrThrow(source: string, options: ParseDagOptions = {}): NormalizedDag {
  const result = parseDag(source, options);
  if (result.ok) return result.dag;
  const count = result.issues.length;
  const subject = options.fileName === undefined ? 'invalid DAG' : `invalid DAG in ${options.fileName}`;
  const message = `${subject} (${count} problem${count === 1 ? '' : 's'}):\n${formatIssues(result.issues, options.fileName)}`;
  throw new ValidationError(message, result.issues);
}

/**
 * Validates and normalizes a DAG given as plain data, e.g. a JSON request body. The checks are
 * those of {@link parseDag}; issues have paths but no line or column.
 */
export function normalizeDagObject(value: unknown, options: Pick<YamlLimits, 'maxDepth'> = {}): ParseResult {
  const tooDeep = checkDepth(value, options.maxDepth ?? DEFAULT_YAML_LIMITS.maxDepth);
  if (tooDeep !== undefined) return { ok: false, issues: finalizeIssues([tooDeep]) };
  return validateAndNormalize(value, undefined);
}

function validateAndNormalize(value: unknown, locator: SourceLocator | undefined): ParseResult {
  const validation = validateSpec(value);
  const lineOf = (path: readonly PathSegment[]): number | undefined => locator?.locate(path, 'value')?.line;
  const graph = validation.rawTasks.length > 0 ? checkGraph(validation.rawTasks, lineOf) : { issues: [] };
  const drafts = [...validation.issues, ...graph.issues];
  if (drafts.length > 0 || validation.spec === undefined || graph.order === undefined) {
    return { ok: false, issues: finalizeIssues(drafts, locator) };
  }
  return { ok: true, dag: normalizeSpec(validation.spec, graph.order) };
}

interface DepthFrame {
  readonly value: object;
  readonly depth: number;
  readonly parent: DepthFrame | undefined;
  readonly key: PathSegment | undefined;
}

/** JSON parsers build any depth; the checks downstream (and canonicalJson) should not see it. */
function checkDepth(value: unknown, maxDepth: number): DraftIssue | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  // Only containers are stacked, each linked to its parent, so that a path is built only for
  // the one report; a 10,000-task DAG has some 30,000 containers and a million scalars.
  const stack: DepthFrame[] = [{ value, depth: 1, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) {
      const path: PathSegment[] = [];
      for (let f: DepthFrame | undefined = frame; f?.key !== undefined; f = f.parent) path.push(f.key);
      const message = `the DAG is nested more than ${maxDepth} levels deep; a DAG never needs that many`;
      return { path: path.reverse(), kind: 'too_deep', message };
    }
    const isArray = Array.isArray(frame.value);
    for (const key of Object.keys(frame.value)) {
      const child = (frame.value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        stack.push({ value: child, depth: frame.depth + 1, parent: frame, key: isArray ? Number(key) : key });
      }
    }
  }
  return undefined;
}
