/**
 * YAML (or JSON) → validated, normalized DAG. Pure: no I/O, no clock, no randomness.
 *
 * ```ts
 * const result = parseDag(text, { fileName: 'etl.yaml' });
 * if (!result.ok) for (const issue of result.issues) console.log(issue.line, issue.message);
 * ```
 */
import { ValidationError } from '../errors.js';
import { type DraftIssue, finalizeIssues, formatIssues, type PathSegment } from './issues.js';
import type { NormalizedDag } from './normalized.js';
import {
  type ParseDagOptions,
  type ParseResult,
  parseDagFast,
  parseDagSlow,
  validateAndNormalize,
} from './parse-dag.js';
import { checkInputSize, DEFAULT_YAML_LIMITS, type YamlLimits } from './yaml-safety.js';

export { canonicalJson } from './canonical-json.js';
export { type DurationResult, formatDuration, parseDuration, tryParseDuration } from './duration.js';
export { DAG_ISSUE_KINDS, type DagIssue, type DagIssueKind, formatIssues, MAX_ISSUES } from './issues.js';
export * from './normalized.js';
export type { ParseDagOptions, ParseResult } from './parse-dag.js';
export { DEFAULT_YAML_LIMITS, type YamlLimits } from './yaml-safety.js';

/**
 * Parses YAML text into a normalized DAG, refusing unsafe YAML (see yaml-safety.ts) and
 * reporting every problem with its path, line and column.
 *
 * Valid input takes a fast path (js-yaml, about ten times faster on big files); anything else,
 * including anything the fast path is unsure of, is read again by the located path, which
 * reports. The DAG is the same whichever path produced it (see parse-dag.ts).
 */
export function parseDag(source: string, options: ParseDagOptions = {}): ParseResult {
  const tooLarge = checkInputSize(source, options);
  if (tooLarge !== undefined) return { ok: false, issues: finalizeIssues([tooLarge]) };
  const fast = parseDagFast(source, options);
  return fast.ok ? fast : parseDagSlow(source, options);
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
