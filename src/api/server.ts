/**
 * Serving the API: composes its dependencies (read-model queries, engine metrics) and listens.
 *
 * Without tokens the API is open to anyone who can reach it, so it only starts that way on a
 * loopback host (127.0.0.1, ::1, localhost); on any other host it refuses to start until
 * DAGRUN_API_TOKENS is set.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { ApiConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { EventStore } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { registerEngineMetrics } from '../observability/metrics.js';
import { createReadModelDb, ReadModelQueries } from '../projections/index.js';
import { createApiApp } from './app.js';
import type { ApiDeps, EngineEstimates, EngineView, ProjectorView } from './context.js';

export interface ApiServerOptions {
  readonly store: EventStore;
  readonly pool: pg.Pool;
  readonly projector: ProjectorView;
  readonly engine?: EngineView | undefined;
  /** Without an engine: read-model estimates of the scheduler's backlog and the workers. */
  readonly estimates?: EngineEstimates | undefined;
  readonly registry: Registry;
  readonly log: Logger;
  readonly api: ApiConfig;
  readonly maxSpecBytes: number;
}

export interface ApiServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, ends open connections (event streams included). */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** Throws ConfigError when the API would be open on a non-loopback host. */
export function assertSafeAuth(api: Pick<ApiConfig, 'host' | 'tokens'>): void {
  if (api.tokens.length === 0 && !isLoopback(api.host)) {
    throw new ConfigError([
      `DAGRUN_API_TOKENS: required when the API listens on ${api.host} (not loopback); without tokens the API only serves 127.0.0.1`,
    ]);
  }
}

/** The dependencies the app reads, with engine metrics registered on `registry`. */
export function createApiDeps(options: Omit<ApiServerOptions, 'api'> & { api: ApiDeps['config'] }): ApiDeps {
  const { engine, pool } = options;
  registerEngineMetrics(options.registry, {
    ...(engine
      ? {
          backlog: () => engine.dispatcher.backlog,
          activeRuns: () => engine.leader.activeRuns,
          runningAttempts: () => engine.workers.reduce((sum, w) => sum + w.running, 0),
          workers: () => engine.workers.length,
        }
      : {}),
    openDeadLetters: async () => {
      const result = await pool.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM dlq_items WHERE status = 'open'",
      );
      return Number(result.rows[0]?.n ?? 0);
    },
  });
  return {
    store: options.store,
    pool,
    queries: new ReadModelQueries(createReadModelDb(pool)),
    projector: options.projector,
    engine,
    estimates: options.estimates,
    registry: options.registry,
    log: options.log,
    config: options.api,
    maxSpecBytes: options.maxSpecBytes,
  };
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  assertSafeAuth(options.api);
  const app = createApiApp(createApiDeps(options));
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.api.port ?? 0, options.api.host, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
    s.once('error', reject);
  });
  // Slow clients may not hold a connection open by trickling their request.
  server.requestTimeout = options.api.requestTimeoutMs;
  server.headersTimeout = Math.min(options.api.requestTimeoutMs, 60_000);
  const { port } = server.address() as AddressInfo;
  const host = options.api.host.includes(':') ? `[${options.api.host}]` : options.api.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
