/**
 * A small HTTP server for the health and metrics of a process that serves no API of its own
 * (`dagrun projector`, `dagrun scheduler`, `dagrun worker`). Generic: the process hands it a
 * Prometheus registry and named readiness checks.
 *
 *   GET /health/live   200 {"status":"ok"} while the process answers
 *   GET /health/ready  200 when every check is ok, else 503; the body lists each check:
 *                      {"status":"ok"|"down","checks":{"postgres":{"ok":true,"latencyMs":1},…}}
 *   GET /health        the same as /health/ready
 *   GET /metrics       the registry in the Prometheus text format
 *
 * Checks run concurrently on every request, each bounded by `checkTimeoutMs` (a check that
 * throws or times out is not ok, with the error as its detail). Unauthenticated: bind it to a
 * loopback or cluster-internal address (DAGRUN_HEALTH_HOST, default 127.0.0.1).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** What one readiness check found; `detail` is shown as it is (keep it JSON-able). */
export interface ReadinessResult {
  readonly ok: boolean;
  readonly detail?: unknown;
}

export type ReadinessCheck = () => Promise<ReadinessResult>;

export interface HealthServerOptions {
  readonly host: string;
  /** 0: any free port (read it back from the result). */
  readonly port: number;
  readonly registry: Registry;
  /** Named readiness checks; the process is ready when all are ok (none: always ready). */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly log: Logger;
  /** Longest a check may take before it counts as failed (default 2000 ms). */
  readonly checkTimeoutMs?: number;
}

export interface HealthServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/** The readiness report `/health/ready` answers with. */
export interface ReadinessReport {
  readonly status: 'ok' | 'down';
  readonly checks: Record<string, ReadinessResult & { readonly latencyMs: number }>;
}

/** Runs every check (concurrently, each with a timeout). */
export async function checkReadiness(
  checks: Readonly<Record<string, ReadinessCheck>>,
  timeoutMs = 2_000,
): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await timed(check, timeoutMs)] as const),
  );
  return {
    status: entries.every(([, result]) => result.ok) ? 'ok' : 'down',
    checks: Object.fromEntries(entries),
  };
}

async function timed(
  check: ReadinessCheck,
  timeoutMs: number,
): Promise<ReadinessResult & { readonly latencyMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ...result, latencyMs: Date.now() - started };
  } catch (error) {
    return {
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
      latencyMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Starts listening; resolves once bound (rejects if the address is taken). */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      options.log.warn('health endpoint failed', { path: req.url, error: String(error) });
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal' }));
      else res.destroy();
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), req.method);
      return;
    }
    switch (path) {
      case '/health/live':
        send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }), req.method);
        return;
      case '/health':
      case '/health/ready': {
        const report = await checkReadiness(options.checks, timeoutMs);
        send(res, report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report), req.method);
        return;
      }
      case '/metrics':
        send(res, 200, options.registry.contentType, await options.registry.metrics(), req.method);
        return;
      default:
        send(res, 404, 'application/json', JSON.stringify({ error: `no route ${path}` }), req.method);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  options.log.info('health server listening', { url });
  let closing: Promise<void> | undefined;
  return {
    url,
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

function send(res: ServerResponse, status: number, type: string, body: string, method?: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(method === 'HEAD' ? undefined : body);
}
