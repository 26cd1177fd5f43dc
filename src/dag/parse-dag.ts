/**
 * The two ways parseDag (index.ts) reads a DAG. The located path is the reference: it
 * parses with the `yaml` library, so that every issue has a line and column, and it refuses
 * hostile YAML (yaml-safety.ts). It is also slow: about a second for a 10,000-task DAG, nearly all
 * of it inside the library. The fast path parses with js-yaml and returns a DAG only when the text
 * is plainly valid, which is the common case; on anything else it gives up and the located path
 * runs, so every issue, and every refusal, is exactly the located path's.
 *
 * Both are exported for the tests that hold them to the same result; callers use parseDag.
 */
import { checkGraph } from './graph-checks.js';
import { type DagIssue, finalizeIssues, type PathSegment, type SourceLocator } from './issues.js';
import { normalizeSpec } from './normalize.js';
import type { NormalizedDag } from './normalized.js';
import { validateSpec } from './validate-spec.js';
import { readYamlFast } from './yaml-fast-path.js';
import { DEFAULT_YAML_LIMITS, readYaml, type YamlLimits } from './yaml-safety.js';

/** Options of parseDag: the {@link YamlLimits} plus a file name for messages. */
export interface ParseDagOptions extends YamlLimits {
  /** Shown in the message of parseDagOrThrow; issues themselves carry no file name. */
  readonly fileName?: string;
}

/** The outcome of parsing: the DAG, or every problem found, located and in document order. */
export type ParseResult =
  | { readonly ok: true; readonly dag: NormalizedDag }
  | { readonly ok: false; readonly issues: DagIssue[] };

/** The outcome of the fast path: the DAG, or why the located path has to run. */
export type FastParseResult =
  | { readonly ok: true; readonly dag: NormalizedDag }
  | { readonly ok: false; readonly reason: string };

/**
 * The fast path: js-yaml, then the checks made on JSON input. It does not check the size; the
 * caller does that first.
 */
export function parseDagFast(source: string, options: YamlLimits = {}): FastParseResult {
  const read = readYamlFast(source, options.maxDepth ?? DEFAULT_YAML_LIMITS.maxDepth);
  if (!read.ok) return read;
  // Depth is checked already, and more strictly, by the reader.
  const result = validateAndNormalize(read.value, undefined);
  return result.ok ? result : { ok: false, reason: 'the DAG has problems; the located path reports them' };
}

/** The located path: the `yaml` library, every issue with its line and column. */
export function parseDagSlow(source: string, options: YamlLimits = {}): ParseResult {
  const read = readYaml(source, options);
  if (!read.ok) return { ok: false, issues: finalizeIssues(read.issues, read.locator) };
  return validateAndNormalize(read.value, read.locator);
}

/** The checks shared by YAML and JSON input; `locator` is absent for JSON (and the fast path). */
export function validateAndNormalize(value: unknown, locator: SourceLocator | undefined): ParseResult {
  const validation = validateSpec(value);
  const lineOf = (path: readonly PathSegment[]): number | undefined => locator?.locate(path, 'value')?.line;
  const graph = validation.rawTasks.length > 0 ? checkGraph(validation.rawTasks, lineOf) : { issues: [] };
  const drafts = [...validation.issues, ...graph.issues];
  if (drafts.length > 0 || validation.spec === undefined || graph.order === undefined) {
    return { ok: false, issues: finalizeIssues(drafts, locator) };
  }
  return { ok: true, dag: normalizeSpec(validation.spec, graph.order) };
}
