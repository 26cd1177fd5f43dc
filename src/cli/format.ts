/** How the CLI shows errors: one line per problem, `file:line:column: path: message`. */
import { DagrunError, ValidationError, type ValidationIssue } from '../errors.js';

export function formatIssue(issue: ValidationIssue, file?: string): string {
  const where = [file, issue.line, issue.column].filter((part) => part !== undefined).join(':');
  const path = issue.path ? `${issue.path}: ` : '';
  return `${where ? `${where}: ` : ''}${path}${issue.message}`;
}

export function formatError(error: unknown, file?: string): string {
  if (error instanceof ValidationError) {
    return [
      `error ${error.code}: ${error.message}`,
      ...error.issues.map((i) => `  ${formatIssue(i, file)}`),
    ].join('\n');
  }
  if (error instanceof DagrunError) return `error ${error.code}: ${error.message}`;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
