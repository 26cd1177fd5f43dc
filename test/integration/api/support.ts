/**
 * A real API in the test process: a test database, a real engine and projector, and the express
 * app listening on 127.0.0.1 with a free port. Everything is stopped in afterAll.
 */
import { Registry } from 'prom-client';
import { afterAll } from 'vitest';
import type { ProjectorView } from '../../../src/api/context.js';
import { type ApiServer, startApiServer } from '../../../src/api/server.js';
import type { Engine, EngineOptions } from '../../../src/cli/engine.js';
import type { ApiConfig } from '../../../src/config/index.js';
import type { EventStore } from '../../../src/events/types.js';
import { Projector, type ProjectorOptions } from '../../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { silentLog, testEngine, testStore } from '../../support/engine.js';

export interface TestApi {
  readonly url: string;
  readonly db: TestDatabase;
  readonly store: EventStore;
  readonly registry: Registry;
  readonly engine: Engine | undefined;
  readonly projector: Projector;
  readonly server: ApiServer;
  /** Events in the whole log. */
  eventCount(): Promise<number>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
}

export interface CallOptions {
  readonly json?: unknown;
  readonly yaml?: string;
  /** A raw body, sent as given. */
  readonly body?: string | Uint8Array;
  readonly headers?: Record<string, string>;
  readonly token?: string;
}

export interface CallResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  readonly body: any;
}

export const TEST_API_CONFIG: ApiConfig = {
  port: 0,
  host: '127.0.0.1',
  tokens: [],
  openHealth: true,
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxProjectorLagMs: 60_000,
  readYourWritesMs: 20_000,
};

export async function startTestApi(
  options: {
    api?: Partial<ApiConfig>;
    /** false: no engine (as `dagrun api`); otherwise engine options. */
    engine?: Partial<EngineOptions> | false;
    projector?: Partial<ProjectorOptions>;
    /** Wraps the store the API writes through (e.g. to inject faults). */
    wrapStore?: (store: EventStore) => EventStore;
    /** Replaces what the API sees of the projector. */
    projectorView?: (projector: Projector) => ProjectorView;
  } = {},
): Promise<TestApi> {
  const db = await createTestDatabase();
  const store = testStore(db);
  const registry = new Registry();
  const engine = options.engine === false ? undefined : await testEngine(db, store, options.engine ?? {});
  const projector = new Projector({
    store,
    pool: db.pool,
    log: silentLog,
    registry,
    pollIntervalMs: 50,
    ...options.projector,
  }).start();
  const server = await startApiServer({
    store: options.wrapStore ? options.wrapStore(store) : store,
    pool: db.pool,
    projector: options.projectorView ? options.projectorView(projector) : projector,
    engine,
    registry,
    log: silentLog,
    api: { ...TEST_API_CONFIG, ...options.api },
    maxSpecBytes: 1024 * 1024,
  });
  afterAll(async () => {
    await server.close();
    await engine?.stop();
    await projector.stop();
    await store.close();
  });
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...o.headers };
    let body: string | Uint8Array | undefined = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      headers['content-type'] ??= 'application/json';
    }
    if (o.yaml !== undefined) {
      body = o.yaml;
      headers['content-type'] ??= 'application/yaml';
    }
    if (o.token) headers['authorization'] = `Bearer ${o.token}`;
    const response = await fetch(server.url + path, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  return {
    url: server.url,
    db,
    store,
    registry,
    engine,
    projector,
    server,
    call,
    async eventCount() {
      const result = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
      return Number(result.rows[0]!.n);
    },
  };
}

/** A YAML DAG of shell tasks, one per line `id: command` with optional dependencies. */
export const helloDag = (name: string) =>
  [
    `name: ${name}`,
    'params:',
    '  who: { type: string, default: world }',
    'tasks:',
    '  - id: greet',
    '    type: shell',
    '    command: echo hello {{ params.who }}',
    '  - id: done',
    '    type: shell',
    '    command: echo done',
    '    dependencies: [greet]',
    '',
  ].join('\n');

/** Waits until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
