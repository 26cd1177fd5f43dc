/**
 * A batch's statements as one script: every compiled query with its parameters written in as
 * literals, joined into one simple-protocol query, so the batch costs Postgres one round trip
 * instead of one per statement.
 *
 * Why: on a busy machine each round trip waits for the backend to be scheduled, so a statement
 * that does microseconds of work took ~3 ms (measured with the engine at 1,000 tasks/s on 2
 * shared cores: every statement kind, the one-row updates included). The statements are few and
 * set-wise (batch-plan.ts), so being parsed and planned each time costs less than that wait.
 *
 * A parameter becomes the literal of the very text node-postgres would have sent for it
 * (`prepareValue`: arrays as array literals, objects as JSON, dates as timestamps), quoted with
 * `escapeLiteral`; like a parameter, a quoted literal has no type until its context gives one.
 * Placeholders are `$n` outside string literals, which is all kysely compiles, and the handlers
 * write no `$` of their own.
 */
import { createRequire } from 'node:module';
import { CompiledQuery } from 'kysely';
import { escapeLiteral } from 'pg';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown;
};

/** The query's SQL with each `$n` replaced by the literal of its parameter. */
export function inlineParameters(query: CompiledQuery): string {
  const parameters = query.parameters;
  return query.sql.replace(/\$(\d+)/g, (placeholder, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= parameters.length) throw new Error(`${placeholder} has no parameter`);
    return literal(parameters[index]);
  });
}

function literal(value: unknown): string {
  const text = prepareValue(value);
  if (text === null || text === undefined) return 'NULL';
  if (typeof text !== 'string') throw new Error('only text parameters can be written as literals');
  return escapeLiteral(text);
}

/** One query that runs `statements` in order (its parameters inlined). */
export function script(statements: readonly (CompiledQuery | string)[]): CompiledQuery {
  return CompiledQuery.raw(
    statements.map((s) => (typeof s === 'string' ? s : inlineParameters(s))).join(';\n'),
  );
}
