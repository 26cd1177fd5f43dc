/**
 * docker-compose.yml as the checks in compose-checks.ts see it: parsed with the `yaml` package
 * (merge keys on, as Compose has them), `${VAR:-default}` interpolated the way Compose does with
 * an empty environment (so a fresh `docker compose up` works without a .env file), and each
 * service's environment, command, volumes and ports in one normalized shape. Also a reader of
 * `dagrun …` argument lists against the real commander program (src/cli/program.ts) that
 * resolves subcommands and options without running anything.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import { parse } from 'yaml';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(new URL(path, `file://${ROOT}`), 'utf8');
}

export interface ComposeService {
  readonly image?: string;
  readonly build?: string | { readonly context?: string; readonly dockerfile?: string };
  readonly command?: string | readonly string[];
  readonly entrypoint?: string | readonly string[];
  readonly environment?: Readonly<Record<string, unknown>> | readonly string[];
  readonly volumes?: readonly (
    | string
    | { readonly type?: string; readonly source?: string; readonly target: string }
  )[];
  readonly ports?: readonly (string | number | { readonly target: number; readonly published?: unknown })[];
  readonly depends_on?: readonly string[] | Readonly<Record<string, { readonly condition?: string }>>;
  readonly healthcheck?: { readonly test?: string | readonly string[]; readonly disable?: boolean };
  readonly restart?: string;
  readonly [key: string]: unknown;
}

export interface ComposeFile {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** Parses YAML as Compose does: merge keys (`<<: *anchor`) on, duplicate keys refused. */
export function parseYaml(text: string): unknown {
  return parse(text, { merge: true, uniqueKeys: true, maxAliasCount: 1000 });
}

const VARIABLE = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Compose's interpolation of every string value: `$$` is a literal `$`; `${V:-d}` / `${V-d}`
 * default, `${V:+r}` / `${V+r}` replace, `${V:?e}` / `${V?e}` require. `problems` gets every
 * variable that has no value in `env` and no default.
 */
export function interpolate(
  value: unknown,
  env: Record<string, string>,
  problems: string[],
  at = '',
): unknown {
  if (typeof value === 'string') {
    return value.replace(VARIABLE, (_match, dollar, braced, op, arg, bare) => {
      if (dollar) return '$';
      const name = (braced ?? bare) as string;
      const set = env[name];
      const present = op?.startsWith(':') ? set !== undefined && set !== '' : set !== undefined;
      switch (op?.replace(':', '')) {
        case '-':
          return present ? (set as string) : (arg as string);
        case '+':
          return present ? (arg as string) : '';
        default:
          if (!present) problems.push(`${at}: \${${name}} has no default; compose up would need it set`);
          return set ?? '';
      }
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, problems, `${at}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, problems, `${at}.${key}`)]),
    );
  }
  return value;
}

/** The compose file, parsed and interpolated with an empty environment. */
export function loadCompose(text: string, problems: string[] = []): ComposeFile {
  return interpolate(parseYaml(text), {}, problems) as ComposeFile;
}

/** A service's environment as strings; null values (taken from the host) are listed in `unset`. */
export function environmentOf(service: ComposeService): { env: Record<string, string>; unset: string[] } {
  const env: Record<string, string> = {};
  const unset: string[] = [];
  const raw = service.environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line: string) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, null] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(raw);
  for (const [key, value] of entries) {
    if (value === null || value === undefined) unset.push(key);
    else env[key] = String(value);
  }
  return { env, unset };
}

/** A command or entrypoint as an argument list (a string is split like a shell would, minus expansion). */
export function argvOf(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value !== 'string') return [...value];
  const words: string[] = [];
  for (const match of value.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? match[3] ?? '');
  }
  return words;
}

export interface Mount {
  readonly source: string | undefined;
  readonly target: string;
  /** A path on the host (`./…`, `/…`), not a named volume. */
  readonly bind: boolean;
}

export function mountsOf(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      const source = volume.source;
      return { source, target: volume.target, bind: volume.type === 'bind' };
    }
    const [source = '', target, _mode] = volume.split(':');
    if (target === undefined) return { source: undefined, target: source, bind: false };
    return { source, target, bind: /^[./~]/.test(source) };
  });
}

/** The container side of each published port. */
export function containerPortsOf(service: ComposeService): number[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'number') return port;
    if (typeof port === 'object') return Number(port.target);
    const last = port.split(':').pop() ?? '';
    return Number(last.split('/')[0]);
  });
}

export function dependenciesOf(service: ComposeService): Map<string, string> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return new Map(deps.map((name: string) => [name, 'service_started']));
  return new Map(
    Object.entries(deps as Record<string, { condition?: string }>).map(([name, dep]) => [
      name,
      dep.condition ?? 'service_started',
    ]),
  );
}

/** dagrun services are the ones built from this repository's Dockerfile. */
export function isDagrunService(service: ComposeService): boolean {
  return service.build !== undefined || (service.image ?? '').startsWith('dagrun:');
}

// ---- The CLI --------------------------------------------------------------------------------

export interface CliInvocation {
  /** Subcommand names, outermost first: `['worker']`, `['dags', 'register']`. */
  readonly path: readonly string[];
  readonly command: Command;
  /** Every option given, with its value (`true` for a flag without one). */
  readonly options: ReadonlyMap<Option, string | true>;
  readonly operands: readonly string[];
}

/**
 * Resolves `argv` (what follows the `dagrun` entrypoint) against the program the way commander
 * does, without parsing it for real: the subcommand, each option looked up on the subcommand and
 * then its ancestors (global options), the values options take, the operands' count.
 */
export function readInvocation(
  program: Command,
  argv: readonly string[],
): { invocation?: CliInvocation; problems: string[] } {
  const problems: string[] = [];
  let command = program;
  const path: string[] = [];
  const chain: Command[] = [program];
  const options = new Map<Option, string | true>();
  const operands: string[] = [];
  const where = () => `dagrun ${path.join(' ')}`.trim();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith('-') && token !== '-') {
      const eq = token.startsWith('--') ? token.indexOf('=') : -1;
      const name = eq < 0 ? token : token.slice(0, eq);
      const inline = eq < 0 ? undefined : token.slice(eq + 1);
      const option = chain.flatMap((c) => c.options).find((o) => o.long === name || o.short === name);
      if (!option) {
        problems.push(`${where()}: unknown option ${name}`);
        continue;
      }
      let value: string | true = true;
      if (option.required || option.optional) {
        const next = argv[i + 1];
        if (inline !== undefined) value = inline;
        else if (next !== undefined && (option.required || !next.startsWith('-'))) {
          value = next;
          i++;
        } else if (option.required) problems.push(`${where()}: ${name} needs a value`);
      } else if (inline !== undefined) {
        problems.push(`${where()}: ${name} takes no value`);
      }
      if (typeof value === 'string' && option.argChoices && !option.argChoices.includes(value)) {
        problems.push(`${where()}: ${name} must be one of ${option.argChoices.join(', ')}`);
      }
      options.set(option, value);
      continue;
    }
    const sub =
      operands.length === 0
        ? command.commands.find((c) => c.name() === token || c.aliases().includes(token))
        : undefined;
    if (sub) {
      command = sub;
      path.push(sub.name());
      chain.unshift(sub);
      continue;
    }
    if (command.commands.length > 0) {
      problems.push(`${where()}: unknown command ${token}`);
      return { problems };
    }
    operands.push(token);
  }
  if (command === program) problems.push('dagrun: no subcommand');
  else if (command.commands.length > 0) problems.push(`${where()}: needs a subcommand`);
  const args = command.registeredArguments;
  const required = args.filter((a) => a.required).length;
  const variadic = args.some((a) => a.variadic);
  if (operands.length < required)
    problems.push(`${where()}: missing ${required - operands.length} argument(s)`);
  if (!variadic && operands.length > args.length)
    problems.push(`${where()}: unexpected argument(s) ${operands.slice(args.length).join(' ')}`);
  return { invocation: { path, command, options, operands }, problems };
}

/**
 * The setting an option overrides, by the convention of every dagrun option's help text:
 * `… (env DAGRUN_HEALTH_PORT)`. Undefined for options that are not settings (`--scripts-dir`).
 */
export function settingOf(option: Option): string | undefined {
  return /\(env ([A-Z][A-Z0-9_]*)/.exec(option.description)?.[1];
}

/** The value of a long option given in the invocation, by name (`--scripts-dir`). */
export function optionValue(invocation: CliInvocation, long: string): string | undefined {
  for (const [option, value] of invocation.options) {
    if (option.long === long && typeof value === 'string') return value;
  }
  return undefined;
}
