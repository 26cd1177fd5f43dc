/**
 * The read side as separate processes, as the distributed deployment runs it: `dagrun projector`
 * and `dagrun api` against one database, with an engine in the test process doing the work. The
 * API serves what the other process projects (read your writes included), sheds load by the read
 * models' backlog estimate, and both answer health and metrics; SIGTERM stops each with 0. Two
 * projectors: one projects, one stands by, and a SIGKILL of the first hands over to the second.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/cli/engine.js';
import type { EventStore } from '../../src/events/types.js';
import { PROJECTED_STREAM_PREFIXES } from '../../src/projections/index.js';
import { exited, spawnDagrun, waitForLine } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startRun, testEngine, testStore } from '../support/engine.js';

const twoTasks = [
  'name: dist',
  'tasks:',
  '  - { id: a, type: noop }',
  '  - { id: b, type: shell, command: echo b }',
  '',
].join('\n');

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
type Body = any;

async function get(url: string): Promise<{ status: number; body: Body; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, text };
}

async function post(
  url: string,
  body?: { yaml?: string; json?: unknown },
): Promise<{ status: number; body: Body; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    ...(body?.yaml !== undefined
      ? { headers: { 'content-type': 'application/yaml' }, body: body.yaml }
      : body?.json !== undefined
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body.json) }
        : {}),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function startProjector(db: TestDatabase): Promise<{ child: ChildProcess; health: string }> {
  const child = spawnDagrun(['projector', '--health-port', '0'], { DATABASE_URL: db.url });
  children.push(child);
  const [, health] = await waitForLine(child, /health on (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, health: health! };
}

async function startApi(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnDagrun(['api', '--port', '0'], { DATABASE_URL: db.url, ...env });
  children.push(child);
  const [, url] = await waitForLine(child, /API on (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, url: url! };
}

async function eventCount(db: TestDatabase): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events');
  return Number(rows[0]!.n);
}

describe('dagrun api and dagrun projector', async () => {
  const db = await createTestDatabase();
  const store: EventStore = testStore(db);
  let engine: Engine | undefined = await testEngine(db, store);
  afterAll(async () => {
    await engine?.stop();
    await store.close();
  });
  const projector = await startProjector(db);
  const api = await startApi(db);

  it('serves what the projector process projects: register, run, read back', async () => {
    const registered = await post(`${api.url}/api/v1/dags`, { yaml: twoTasks });
    expect(registered.status).toBe(201); // read back through the other process's checkpoint
    expect(registered.body).toMatchObject({ id: 'dist', latestVersion: 1 });
    const run = await post(`${api.url}/api/v1/dags/dist/runs`);
    expect(run.status).toBe(201);
    const runId = run.body.id;
    const done = await eventually(async () => {
      const r = await get(`${api.url}/api/v1/runs/${runId}`);
      return r.body.status === 'succeeded' ? r.body : undefined;
    });
    expect(done.tasks).toMatchObject({ total: 2, succeeded: 2 });
    const attempts = await get(`${api.url}/api/v1/runs/${runId}/tasks/b/attempts`);
    expect(attempts.body[0].logs.stdout.head).toBe('b\n');
  });

  it('reports health: the projector active, the API ready with the read models it can see', async () => {
    const live = await get(`${projector.health}/health/live`);
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await get(`${projector.health}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.checks.postgres.ok).toBe(true);
    expect(ready.body.checks.projector).toMatchObject({ ok: true, detail: { role: 'active' } });

    const apiReady = await get(`${api.url}/health/ready`);
    expect(apiReady.status).toBe(200);
    // The read-model estimates are refreshed every second: wait for one after the run above.
    const health = await eventually(async () => {
      const r = await get(`${api.url}/health`);
      const { workers, scheduler } = r.body.components;
      return workers.status === 'up' && scheduler.detail.backlogEstimate === 0 ? r : undefined;
    });
    expect(health.body.components.projector).toMatchObject({ status: 'up', detail: { state: 'running' } });
    expect(health.body.components.scheduler).toEqual({
      status: 'absent',
      detail: { backlogEstimate: 0, maxBacklog: 1000 },
    });
    expect(health.body.components.workers.detail).toMatchObject({ source: 'read model' }); // from attempts
    expect(health.body.components.workers.detail.active).toBeGreaterThan(0);
  });

  it('serves Prometheus metrics on both', async () => {
    const projectorMetrics = await get(`${projector.health}/metrics`);
    expect(projectorMetrics.status).toBe(200);
    expect(projectorMetrics.text).toContain('dagrun_projector_lag_seconds{projection="read_models"}');
    expect(projectorMetrics.text).toMatch(
      /^dagrun_projector_events_applied_total\{projection="read_models"\} [1-9]/m,
    );
    expect(projectorMetrics.text).toMatch(/^dagrun_projector_active 1$/m);
    expect(projectorMetrics.text).toContain('process_cpu_user_seconds_total');
    const apiMetrics = await get(`${api.url}/metrics`);
    expect(apiMetrics.text).toMatch(/^dagrun_read_model_projector_active 1$/m);
    expect(apiMetrics.text).toContain('dagrun_read_model_lag_seconds');
    expect(apiMetrics.text).toMatch(/^dagrun_api_backlog_estimate 0$/m);
    expect(apiMetrics.text).toContain(
      'dagrun_api_requests_total{method="POST",route="/api/v1/dags",status="201"} 1',
    );
  });

  it('sheds runs with 429 when the read models show the backlog at DAGRUN_MAX_BACKLOG', async () => {
    // A scheduler without workers: what it queues stays queued.
    await engine?.stop();
    engine = await testEngine(db, store, { workers: 0 });
    const bounded = await startApi(db, { DAGRUN_MAX_BACKLOG: '2' });
    const first = await post(`${bounded.url}/api/v1/dags/dist/runs`);
    expect(first.status).toBe(201);
    const refused = await eventually(async () => {
      const before = await eventCount(db);
      const r = await post(`${bounded.url}/api/v1/dags/dist/runs`);
      if (r.status === 201) return undefined; // the estimate has not seen both tasks queued yet
      expect(await eventCount(db)).toBe(before);
      return r;
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.body).toMatchObject({ code: 'backlog_full', estimated: true });
    expect(refused.body.backlog).toBeGreaterThanOrEqual(2);
    expect((await get(`${bounded.url}/api/v1/runs`)).status).toBe(200);
    bounded.child.kill('SIGTERM');
    expect(await exited(bounded.child)).toBe(0);
  });

  it('stops both with exit code 0 on SIGTERM', async () => {
    api.child.kill('SIGTERM');
    projector.child.kill('SIGTERM');
    expect(await exited(api.child)).toBe(0);
    expect(await exited(projector.child)).toBe(0);
  });
});

describe('two dagrun projectors', async () => {
  const db = await createTestDatabase();
  const store: EventStore = testStore(db);
  const engine = await testEngine(db, store);
  afterAll(async () => {
    await engine.stop();
    await store.close();
  });

  async function role(health: string): Promise<string | undefined> {
    const r = await get(`${health}/health/ready`);
    return r.body?.checks?.projector?.detail?.role;
  }

  async function runStatus(runId: string): Promise<string | undefined> {
    const { rows } = await db.pool.query<{ status: string }>('SELECT status FROM runs WHERE id = $1', [
      runId,
    ]);
    return rows[0]?.status;
  }

  it('one projects, one stands by; after a SIGKILL of the first the second takes over', async () => {
    const first = await startProjector(db);
    await eventually(async () => ((await role(first.health)) === 'active' ? true : undefined));
    const second = await startProjector(db);
    await eventually(async () => ((await role(second.health)) === 'standby' ? true : undefined));
    const standby = await get(`${second.health}/health/ready`);
    expect(standby.status).toBe(200); // a standby is ready
    expect(standby.body.checks.projector.detail.activeElsewhere).toBe(true);

    const before = await startRun(store, twoTasks.replace('name: dist', 'name: handover'));
    await eventually(async () => ((await runStatus(before)) === 'succeeded' ? true : undefined));

    first.child.kill('SIGKILL');
    await exited(first.child);
    await eventually(async () => ((await role(second.health)) === 'active' ? true : undefined));
    const after = await startRun(store, twoTasks.replace('name: dist', 'name: handover'));
    await eventually(async () => ((await runStatus(after)) === 'succeeded' ? true : undefined));

    // Exactly once across the handover: every projected event counted once by the checkpoint.
    const projected = (await store.readAll({ streamPrefixes: PROJECTED_STREAM_PREFIXES })).length;
    await eventually(async () => {
      const { rows } = await db.pool.query<{ n: string }>(
        "SELECT events_applied::text AS n FROM projection_checkpoints WHERE name = 'read_models'",
      );
      return Number(rows[0]?.n) === projected ? true : undefined;
    });
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});
