/**
 * The health server of the processes without an API (src/observability/health-server.ts), over
 * real HTTP: liveness, readiness from named checks (a failing, throwing or hanging check makes
 * the process unready), metrics, and what it refuses.
 */
import { Counter, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startHealthServer } from '../../../src/observability/health-server.js';
import { silentLog } from '../../support/engine.js';

describe('startHealthServer', async () => {
  const registry = new Registry();
  new Counter({ name: 'health_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  let postgresOk = true;
  let hang = false;
  const server = await startHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    log: silentLog,
    checkTimeoutMs: 200,
    checks: {
      postgres: async () => ({ ok: postgresOk, detail: postgresOk ? undefined : 'connection refused' }),
      projector: async () => {
        if (hang) await new Promise(() => {});
        return { ok: true, detail: { role: 'active', lagMs: 0 } };
      },
    },
  });
  afterAll(() => server.close());

  it('binds a free port and says where', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('answers /health/live while the process runs', async () => {
    const r = await fetch(`${server.url}/health/live`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('answers /health/ready 200 with every check when all are ok', async () => {
    const r = await fetch(`${server.url}/health/ready`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ok');
    expect(body.checks['projector']).toMatchObject({ ok: true, detail: { role: 'active', lagMs: 0 } });
    expect(body.checks['postgres']?.ok).toBe(true);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('answers 503 when a check fails or does not answer in time', async () => {
    postgresOk = false;
    hang = true;
    try {
      const r = await fetch(`${server.url}/health/ready`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { status: string; checks: Record<string, unknown> };
      expect(body.status).toBe('down');
      expect(body.checks['postgres']).toMatchObject({ ok: false, detail: 'connection refused' });
      expect(body.checks['projector']).toMatchObject({ ok: false, detail: 'no answer in 200 ms' });
    } finally {
      postgresOk = true;
      hang = false;
    }
  });

  it('serves the registry at /metrics in the Prometheus format', async () => {
    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await r.text()).toMatch(/^health_test_total 3$/m);
  });

  it('refuses other paths with 404 and other methods with 405', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/health/live`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses to start on a port already taken', async () => {
    await expect(
      startHealthServer({ host: '127.0.0.1', port: server.port, registry, log: silentLog, checks: {} }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
