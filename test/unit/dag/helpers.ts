/** Shared by the DAG unit tests: parse and expect failure, find issues by kind. */
import { expect } from 'vitest';
import { type DagIssue, type NormalizedDag, type ParseDagOptions, parseDag } from '../../../src/dag/index.js';

export function issuesOf(source: string, options?: ParseDagOptions): DagIssue[] {
  const result = parseDag(source, options);
  if (result.ok) throw new Error('expected the DAG to be refused, but it parsed');
  return result.issues;
}

export function dagOf(source: string, options?: ParseDagOptions): NormalizedDag {
  const result = parseDag(source, options);
  if (!result.ok)
    throw new Error(`expected the DAG to parse:\n${result.issues.map((i) => i.message).join('\n')}`);
  return result.dag;
}

/** The only issue of a source; fails the test if there are more or fewer. */
export function onlyIssue(source: string, options?: ParseDagOptions): DagIssue {
  const issues = issuesOf(source, options);
  expect(issues, JSON.stringify(issues, null, 2)).toHaveLength(1);
  return issues[0]!;
}

/** Joins lines, so that test sources show their line numbers plainly. */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** One shell task `a`, with extra lines appended to its mapping (from line 6 on). */
export const taskA = (...extra: string[]): string =>
  yaml('name: p', 'tasks:', '  - id: a', '    type: shell', '    command: ls', ...extra);
