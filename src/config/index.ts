/**
 * Config once: one zod schema over the environment and command-line flags, parsed at start-up.
 * Flags win over the environment. Every problem is reported at once, and the typed result is
 * passed down — nothing below this module reads `process.env`.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const logLevels = ['error', 'warn', 'info', 'debug'] as const;

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// or postgresql:// URL');

const commaList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url()).min(1, 'must list at least one endpoint'));

const byteSize = z.coerce.number().int('must be a whole number of bytes').positive('must be positive');

const milliseconds = z.coerce
  .number()
  .int('must be a whole number of milliseconds')
  .positive('must be positive');

const booleanString = z.enum(['true', 'false']);

/** API scopes; each includes the ones before it (admin ⊇ write ⊇ read). */
export const apiScopes = ['read', 'write', 'admin'] as const;
export type ApiScope = (typeof apiScopes)[number];

export interface ApiTokenConfig {
  /** Who the token belongs to: the actor `user:<name>` on the events it causes. */
  readonly name: string;
  readonly token: string;
  readonly scopes: readonly ApiScope[];
}

/** The shortest token accepted: a guessable token is no token. */
export const MIN_API_TOKEN_LENGTH = 16;

/** `name:token:scope+scope,name2:token2:scope` → tokens; every malformed entry is an issue. */
const apiTokens = z.string().transform((value, ctx): ApiTokenConfig[] => {
  const tokens: ApiTokenConfig[] = [];
  const entries = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const parts = entry.split(':');
    const [name = '', token = '', scopeList = ''] = parts;
    const scopes = scopeList.split('+').filter(Boolean);
    const problem =
      parts.length !== 3
        ? 'expected name:token:scope[+scope]'
        : !/^[A-Za-z0-9_.-]{1,64}$/.test(name)
          ? 'the name must be 1 to 64 letters, digits, _ . -'
          : token.length < MIN_API_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)
            ? `the token must be at least ${MIN_API_TOKEN_LENGTH} printable characters without spaces`
            : scopes.length === 0 || scopes.some((s) => !(apiScopes as readonly string[]).includes(s))
              ? `scopes must be ${apiScopes.join(', ')} joined by +`
              : tokens.some((t) => t.name === name)
                ? `the name ${name} is used twice`
                : undefined;
    // Never echo the token itself into an error message.
    if (problem) ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: ${problem}` });
    else tokens.push({ name, token, scopes: scopes as ApiScope[] });
  }
  return tokens;
});

/** Every setting, by the name of its environment variable. */
export const configSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  DAGRUN_DATA_DIR: z.string().min(1).default('.dagrun'),
  DAGRUN_LOG_LEVEL: z.enum(logLevels).default('info'),
  DAGRUN_LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  DAGRUN_EVENT_STORE: z.enum(['postgres', 'eventstoredb']).default('postgres'),
  ESDB_URL: z.string().startsWith('esdb', 'must be an esdb:// or esdb+discover:// URL').optional(),
  ETCD_ENDPOINTS: commaList.optional(),
  DAGRUN_MAX_SPEC_BYTES: byteSize.default(1024 * 1024),
  DAGRUN_DB_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  DAGRUN_EMBEDDED_CREATE_USER: z.enum(['true', 'false']).default('true'),
  DAGRUN_PYTHON: z.string().min(1).default('python3'),
  DAGRUN_WORKERS: z.coerce.number().int().min(1).max(64).default(2),
  DAGRUN_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  /** Attempts a worker may claim beyond its free slots while its tasks are short (default: 3 per slot; 0: off). */
  DAGRUN_WORKER_CLAIM_AHEAD: z.coerce.number().int().min(0).max(1000).optional(),
  /** Extra variables (comma-separated names) that shell and Python tasks inherit, beyond PATH and HOME. */
  DAGRUN_TASK_ENV: z.string().default(''),
  /** The REST API's port; `dagrun standalone` serves the API only when it is set (0: any free port). */
  DAGRUN_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  DAGRUN_HOST: z.string().min(1).default('127.0.0.1'),
  /** Bearer tokens: `name:token:scope[+scope],…` with scopes read, write, admin. */
  DAGRUN_API_TOKENS: apiTokens.default([]),
  /** Serve /health and /metrics without a token. */
  DAGRUN_API_OPEN_HEALTH: booleanString.default('true'),
  DAGRUN_API_MAX_BODY_BYTES: byteSize.default(1024 * 1024),
  DAGRUN_API_REQUEST_TIMEOUT_MS: milliseconds.default(30_000),
  /** Above this projector lag, write requests are shed with 503. */
  DAGRUN_API_MAX_PROJECTOR_LAG_MS: milliseconds.default(10_000),
  /** How long a write waits for the read models to show it before answering 202 instead. */
  DAGRUN_API_READ_YOUR_WRITES_MS: milliseconds.default(2_000),
  /** Most ready-but-unclaimed attempts the scheduler holds; the API sheds load above it. */
  DAGRUN_MAX_BACKLOG: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** Where a process serves /health/live, /health/ready and /metrics (0: any free port). */
  DAGRUN_HEALTH_HOST: z.string().min(1).default('127.0.0.1'),
  DAGRUN_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Shared secret of schedulers and workers: workers present it when they pull work. */
  DAGRUN_CLUSTER_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable characters without spaces')
    .optional(),
  /** TTL of etcd leases (scheduler leadership, worker registrations), in seconds. */
  DAGRUN_LEASE_TTL_S: z.coerce.number().int().min(2).max(300).default(5),
  DAGRUN_ETCD_PREFIX: z
    .string()
    .regex(/^\/([A-Za-z0-9_.-]+\/)*$/, 'must look like /dagrun/ (slashes around each part)')
    .default('/dagrun/'),
  /** The scheduler's dispatch endpoint, where workers pull work from the leader. */
  DAGRUN_DISPATCH_HOST: z.string().min(1).default('127.0.0.1'),
  DAGRUN_DISPATCH_PORT: z.coerce.number().int().min(0).max(65_535).default(7401),
  /** The dispatch URL workers are told (default: http://DAGRUN_DISPATCH_HOST:port). */
  DAGRUN_DISPATCH_ADVERTISE: z.url().optional(),
  DAGRUN_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,90}$/, 'must be 1 to 90 letters, digits, _ . -')
    .optional(),
  /** Labels a worker offers (comma-separated); a task that requires labels runs only where all are offered. */
  DAGRUN_WORKER_LABELS: z.string().default(''),
  /** How long SIGTERM lets in-flight attempts finish before they are abandoned. */
  DAGRUN_DRAIN_GRACE_MS: milliseconds.default(30_000),
  // Tracing (OpenTelemetry), by the standard OTEL_* names; see src/observability/tracing.ts.
  /** Where finished spans go: `otlp`, `console`, both (comma-separated), or `none` (off, the default). */
  OTEL_TRACES_EXPORTER: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['otlp', 'console', 'none'], 'must list otlp, console or none')))
    .default(['none']),
  /** Base URL of an OTLP/HTTP collector; traces go to <base>/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** The full URL traces are sent to (wins over OTEL_EXPORTER_OTLP_ENDPOINT). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** Default: `dagrun-<role>` (dagrun-api, dagrun-scheduler, dagrun-worker, dagrun-standalone). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_SDK_DISABLED: booleanString.default('false'),
});

export type RawConfig = z.output<typeof configSchema>;

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly log: { readonly level: (typeof logLevels)[number]; readonly format: 'json' | 'pretty' };
  readonly eventStore:
    | { readonly kind: 'postgres' }
    | { readonly kind: 'eventstoredb'; readonly url: string };
  readonly etcdEndpoints: readonly string[] | undefined;
  readonly maxSpecBytes: number;
  readonly dbPoolSize: number;
  readonly embedded: {
    readonly createPostgresUser: boolean;
    /** The environment initdb and the embedded postgres start from: this one without PG* variables. */
    readonly serverEnv: Readonly<Record<string, string>>;
  };
  readonly workers: {
    readonly count: number;
    readonly concurrency: number;
    /** Claim-ahead depth per worker (src/workers/claim-ahead.ts); undefined: 3 per slot. */
    readonly claimAhead: number | undefined;
    readonly python: string;
    /** What tasks inherit from this process's environment: PATH, HOME and DAGRUN_TASK_ENV's names. */
    readonly inheritedEnv: Readonly<Record<string, string>>;
  };
  readonly api: ApiConfig;
  readonly maxBacklog: number;
  readonly health: { readonly host: string; readonly port: number | undefined };
  readonly cluster: ClusterConfig;
  /** OpenTelemetry tracing; no exporters: off. */
  readonly tracing: {
    readonly exporters: readonly ('otlp' | 'console')[];
    /** The OTLP/HTTP traces URL; undefined: the exporter's default (http://localhost:4318/v1/traces). */
    readonly otlpTracesUrl: string | undefined;
    /** undefined: `dagrun-<role>`. */
    readonly serviceName: string | undefined;
  };
}

export interface ClusterConfig {
  readonly token: string | undefined;
  readonly leaseTtlSeconds: number;
  readonly etcdPrefix: string;
  readonly dispatch: { readonly host: string; readonly port: number; readonly advertise: string | undefined };
  readonly workerId: string | undefined;
  readonly workerLabels: readonly string[];
  readonly drainGraceMs: number;
}

export interface ApiConfig {
  /** undefined: `dagrun standalone` serves no API. */
  readonly port: number | undefined;
  readonly host: string;
  readonly tokens: readonly ApiTokenConfig[];
  readonly openHealth: boolean;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxProjectorLagMs: number;
  readonly readYourWritesMs: number;
}

/** Flags use the same names as the environment variables (e.g. `{ DATABASE_URL: '…' }`). */
export type ConfigFlags = Partial<Record<keyof RawConfig, string | undefined>>;

/** Parses env and flags; throws ConfigError listing every problem. */
export function loadConfig(env: Record<string, string | undefined>, flags: ConfigFlags = {}): Config {
  const merged: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = flags[key as keyof RawConfig] ?? env[key];
    // An empty variable means "not set", as shells make it easy to export FOO= by accident.
    if (value !== undefined && value !== '') merged[key] = value;
  }
  const parsed = configSchema.safeParse(merged);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
  if (parsed.success && parsed.data.DAGRUN_EVENT_STORE === 'eventstoredb' && !parsed.data.ESDB_URL) {
    problems.push('ESDB_URL: required when DAGRUN_EVENT_STORE=eventstoredb');
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const raw = parsed.data;
  return {
    databaseUrl: raw.DATABASE_URL,
    dataDir: raw.DAGRUN_DATA_DIR,
    log: { level: raw.DAGRUN_LOG_LEVEL, format: raw.DAGRUN_LOG_FORMAT },
    eventStore:
      raw.DAGRUN_EVENT_STORE === 'eventstoredb'
        ? { kind: 'eventstoredb', url: raw.ESDB_URL as string }
        : { kind: 'postgres' },
    etcdEndpoints: raw.ETCD_ENDPOINTS,
    maxSpecBytes: raw.DAGRUN_MAX_SPEC_BYTES,
    dbPoolSize: raw.DAGRUN_DB_POOL_SIZE,
    embedded: {
      createPostgresUser: raw.DAGRUN_EMBEDDED_CREATE_USER === 'true',
      // PGDATA, PGPORT… must not redirect the embedded server.
      serverEnv: pick(
        env,
        Object.keys(env).filter((name) => !name.startsWith('PG')),
      ),
    },
    workers: {
      count: raw.DAGRUN_WORKERS,
      concurrency: raw.DAGRUN_WORKER_CONCURRENCY,
      claimAhead: raw.DAGRUN_WORKER_CLAIM_AHEAD,
      python: raw.DAGRUN_PYTHON,
      inheritedEnv: pick(env, ['PATH', 'HOME', ...raw.DAGRUN_TASK_ENV.split(',').map((n) => n.trim())]),
    },
    api: {
      port: raw.DAGRUN_PORT,
      host: raw.DAGRUN_HOST,
      tokens: raw.DAGRUN_API_TOKENS,
      openHealth: raw.DAGRUN_API_OPEN_HEALTH === 'true',
      maxBodyBytes: raw.DAGRUN_API_MAX_BODY_BYTES,
      requestTimeoutMs: raw.DAGRUN_API_REQUEST_TIMEOUT_MS,
      maxProjectorLagMs: raw.DAGRUN_API_MAX_PROJECTOR_LAG_MS,
      readYourWritesMs: raw.DAGRUN_API_READ_YOUR_WRITES_MS,
    },
    maxBacklog: raw.DAGRUN_MAX_BACKLOG,
    health: { host: raw.DAGRUN_HEALTH_HOST, port: raw.DAGRUN_HEALTH_PORT },
    cluster: {
      token: raw.DAGRUN_CLUSTER_TOKEN,
      leaseTtlSeconds: raw.DAGRUN_LEASE_TTL_S,
      etcdPrefix: raw.DAGRUN_ETCD_PREFIX,
      dispatch: {
        host: raw.DAGRUN_DISPATCH_HOST,
        port: raw.DAGRUN_DISPATCH_PORT,
        advertise: raw.DAGRUN_DISPATCH_ADVERTISE,
      },
      workerId: raw.DAGRUN_WORKER_ID,
      workerLabels: raw.DAGRUN_WORKER_LABELS.split(',')
        .map((label) => label.trim())
        .filter(Boolean),
      drainGraceMs: raw.DAGRUN_DRAIN_GRACE_MS,
    },
    tracing: {
      exporters:
        raw.OTEL_SDK_DISABLED === 'true' || raw.OTEL_TRACES_EXPORTER.includes('none')
          ? []
          : [...new Set(raw.OTEL_TRACES_EXPORTER.filter((e) => e !== 'none'))],
      otlpTracesUrl:
        raw.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
        (raw.OTEL_EXPORTER_OTLP_ENDPOINT
          ? `${raw.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
          : undefined),
      serviceName: raw.OTEL_SERVICE_NAME,
    },
  };
}

function pick(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = name ? env[name] : undefined;
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}

/** The process's own environment; the one place that reads it. */
export function loadConfigFromProcess(flags: ConfigFlags = {}): Config {
  return loadConfig(process.env, flags);
}
