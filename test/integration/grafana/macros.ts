/**
 * Turns a Grafana Postgres panel query into the plain SQL Grafana would send, so a test can run it.
 *
 * Two steps, in Grafana's order: template variables first (the browser interpolates them), then
 * the `$__macro(...)` calls (the Postgres datasource expands them on the server). The expansions
 * copy the Postgres datasource's own (pkg/tsdb/grafana-postgresql-datasource/macros.go), e.g.
 * `$__timeGroup` is `floor(extract(epoch from x)/60)*60`, not a `date_bin`, so a query that only
 * works with some other expansion fails here too.
 *
 * Anything not listed below throws: a macro or variable passed through unexpanded would make a
 * query fail for the wrong reason, or worse, a typo in a dashboard pass for the right one.
 *
 * Variables: `$name`, `${name}` (no `:format`), and the built-ins `$__interval`, `$__interval_ms`.
 * Multi-value variables render as Grafana renders them for SQL: each value single-quoted, joined
 * with commas, so they belong in `IN (...)`.
 *
 * Macros: `$__time`, `$__timeEpoch`, `$__timeFilter`, `$__timeFrom`, `$__timeTo`,
 * `$__timeGroup`, `$__timeGroupAlias` (no fill argument), `$__unixEpochFilter`,
 * `$__unixEpochFrom`, `$__unixEpochTo`, `$__unixEpochGroup`, `$__unixEpochGroupAlias`.
 */

export interface PanelQueryContext {
  readonly from: Date;
  readonly to: Date;
  /** What `$__interval` stands for; whole milliseconds. */
  readonly intervalMs: number;
  /** Dashboard template variables and their selected values. */
  readonly variables: Readonly<Record<string, readonly string[]>>;
}

/** Expands `sql` as Grafana would for `context`; throws on anything it does not know. */
export function expandPanelSql(sql: string, context: PanelQueryContext): string {
  const expanded = expandMacros(expandVariables(sql, context), context);
  const leftover = /\$(?:\w+|\{[^}]*\})/.exec(expanded);
  if (leftover) throw new Error(`unexpanded ${leftover[0]} in: ${sql}`);
  return expanded;
}

/** `$name` or `${name}`, but not `$__macro(`: a name followed by `(` is a macro call. */
const VARIABLE = /\$\{(\w+)(?::(\w+))?\}|\$(\w+)(?![\w(])/g;

function expandVariables(sql: string, context: PanelQueryContext): string {
  return sql.replace(VARIABLE, (whole, braced: string | undefined, format: string | undefined, bare) => {
    const name = braced ?? (bare as string);
    if (format !== undefined) throw new Error(`variable format ${whole} is not supported`);
    if (name === '__interval') return formatInterval(context.intervalMs);
    if (name === '__interval_ms') return String(context.intervalMs);
    const values = context.variables[name];
    if (!values) throw new Error(`unknown variable ${whole}`);
    if (values.length === 0) throw new Error(`variable ${whole} has no value`);
    return values.map(quoteLiteral).join(',');
  });
}

/** Grafana's argument list is everything up to the first `)`: macros cannot nest. */
const MACRO = /\$(__\w+)\(([^)]*)\)/g;

function expandMacros(sql: string, context: PanelQueryContext): string {
  const from = `'${context.from.toISOString()}'`;
  const to = `'${context.to.toISOString()}'`;
  const fromEpoch = Math.floor(context.from.getTime() / 1000);
  const toEpoch = Math.floor(context.to.getTime() / 1000);
  return sql.replace(MACRO, (whole, name: string, argText: string) => {
    const args = argText.trim() === '' ? [] : argText.split(',').map((a) => a.trim());
    const arity = (n: number) => {
      if (args.length !== n) throw new Error(`${whole}: ${name} takes ${n} argument(s)`);
    };
    switch (name) {
      case '__time':
        arity(1);
        return `${args[0]} AS "time"`;
      case '__timeEpoch':
        arity(1);
        return `extract(epoch from ${args[0]}) AS "time"`;
      case '__timeFilter':
        arity(1);
        return `${args[0]} BETWEEN ${from} AND ${to}`;
      case '__timeFrom':
        arity(0);
        return from;
      case '__timeTo':
        arity(0);
        return to;
      case '__timeGroup':
      case '__timeGroupAlias': {
        arity(2);
        const s = intervalSeconds(args[1]!);
        const group = `floor(extract(epoch from ${args[0]})/${s})*${s}`;
        return name === '__timeGroup' ? group : `${group} AS "time"`;
      }
      case '__unixEpochFilter':
        arity(1);
        return `${args[0]} >= ${fromEpoch} AND ${args[0]} <= ${toEpoch}`;
      case '__unixEpochFrom':
        arity(0);
        return String(fromEpoch);
      case '__unixEpochTo':
        arity(0);
        return String(toEpoch);
      case '__unixEpochGroup':
      case '__unixEpochGroupAlias': {
        arity(2);
        const s = intervalSeconds(args[1]!);
        const group = `floor((${args[0]})/${s})*${s}`;
        return name === '__unixEpochGroup' ? group : `${group} AS "time"`;
      }
      default:
        throw new Error(`unknown macro ${whole}`);
    }
  });
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `'5m'`, `1h`, `30s` → seconds, as Grafana parses the interval argument of `$__timeGroup`. */
function intervalSeconds(text: string): number {
  const match = /^['"]?(\d+)(ms|s|m|h|d|w)['"]?$/.exec(text);
  if (!match) throw new Error(`unsupported interval ${text}`);
  return (Number(match[1]) * UNIT_MS[match[2]!]!) / 1000;
}

/** How Grafana prints `$__interval`: the largest unit that divides it. */
function formatInterval(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`interval must be whole milliseconds: ${ms}`);
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
