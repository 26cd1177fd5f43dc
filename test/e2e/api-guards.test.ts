/**
 * What the API refuses, over real HTTP: auth (401/403 — and nothing appended), body limits
 * (413), media types (415), conflicts surfaced as 412, load shedding (429 on a full backlog, 503
 * on a lagging projector, with Retry-After), the request deadline (503), and 202 when the read
 * model does not catch up in time.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../../src/errors.js';
import type { EventStore } from '../../src/events/types.js';
import { helloDag, startTestApi } from '../integration/api/support.js';

const READER = 'reader-token-0123456789';
const WRITER = 'writer-token-0123456789';
const ADMIN = 'admin-token-01234567890';

describe('bearer tokens with scopes', async () => {
  const api = await startTestApi({
    engine: false,
    api: {
      tokens: [
        { name: 'ann', token: READER, scopes: ['read'] },
        { name: 'bob', token: WRITER, scopes: ['write'] },
        { name: 'ops', token: ADMIN, scopes: ['admin'] },
      ],
    },
  });

  it('refuses a missing or wrong token with 401 and appends nothing', async () => {
    const before = await api.eventCount();
    const missing = await api.call('POST', '/api/v1/dags', { yaml: helloDag('auth') });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="dagrun"');
    expect(missing.body).toMatchObject({ code: 'unauthorized', detail: 'a bearer token is required' });
    const wrong = await api.call('POST', '/api/v1/dags', { yaml: helloDag('auth'), token: `${WRITER}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toBe('the bearer token is not valid');
    expect((await api.call('GET', '/api/v1/dags')).status).toBe(401);
    // Refused before the body is read: even a malformed body gets 401.
    expect(
      (await api.call('POST', '/api/v1/dags', { body: '{', headers: { 'content-type': 'application/json' } }))
        .status,
    ).toBe(401);
    expect(await api.eventCount()).toBe(before);
  });

  it('refuses a token without the scope with 403 and appends nothing; scopes nest', async () => {
    const before = await api.eventCount();
    const reader = await api.call('POST', '/api/v1/dags', { yaml: helloDag('auth'), token: READER });
    expect(reader.status).toBe(403);
    expect(reader.body).toMatchObject({ code: 'forbidden', needed: 'write', granted: ['read'] });
    expect(await api.eventCount()).toBe(before);
    const writer = await api.call('POST', '/api/v1/dags', { yaml: helloDag('auth'), token: WRITER });
    expect(writer.status).toBe(201);
    const pause = await api.call('POST', '/api/v1/dags/auth/pause', { token: WRITER });
    expect(pause.status).toBe(403);
    expect(pause.body.needed).toBe('admin');
    expect((await api.call('POST', '/api/v1/dags/auth/pause', { token: ADMIN })).status).toBe(200);
    expect((await api.call('GET', '/api/v1/dags/auth', { token: READER })).body.paused).toBe(true);
    expect((await api.call('GET', '/api/v1/dags/auth', { token: ADMIN })).status).toBe(200);
  });

  it('records who acted as the event actor', async () => {
    const [registered] = await api.store.readStream('dag-auth');
    expect(registered!.metadata.actor).toBe('user:bob');
  });

  it('leaves /health, /metrics and the API description open by default', async () => {
    expect((await api.call('GET', '/health/live')).status).toBe(200);
    expect((await api.call('GET', '/metrics')).status).toBe(200);
    expect((await api.call('GET', '/openapi.json')).status).toBe(200);
  });
});

describe('closed health endpoints', async () => {
  const api = await startTestApi({
    engine: false,
    api: { tokens: [{ name: 'ann', token: READER, scopes: ['read'] }], openHealth: false },
  });

  it('needs a token for /health and /metrics when DAGRUN_API_OPEN_HEALTH=false', async () => {
    expect((await api.call('GET', '/health')).status).toBe(401);
    expect((await api.call('GET', '/metrics')).status).toBe(401);
    const health = await api.call('GET', '/health', { token: READER });
    expect(health.status).toBe(200);
    expect(health.body.components.scheduler).toEqual({ status: 'absent', detail: {} });
  });
});

describe('body limits, media types, conflicts and the deadline', async () => {
  let mode: 'normal' | 'conflict' | 'slow' = 'normal';
  const faulty = (store: EventStore): EventStore => ({
    ...store,
    append: async (stream, events, expected) => {
      if (mode === 'conflict') throw new ConcurrencyError(stream, 0, 1);
      if (mode === 'slow') await new Promise((r) => setTimeout(r, 600));
      return store.append(stream, events, expected);
    },
  });
  const api = await startTestApi({
    engine: false,
    wrapStore: faulty,
    api: { maxBodyBytes: 2048, requestTimeoutMs: 300 },
  });

  it('answers 413 above the body limit and appends nothing', async () => {
    const before = await api.eventCount();
    const big = `${helloDag('big')}# ${'x'.repeat(4096)}\n`;
    const r = await api.call('POST', '/api/v1/dags', { yaml: big });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'body_too_large', status: 413, title: 'Content Too Large' });
    expect(await api.eventCount()).toBe(before);
  });

  it('answers 415 for a body that is neither JSON nor YAML, and for YAML where only JSON is taken', async () => {
    const text = await api.call('POST', '/api/v1/dags', {
      body: 'name: x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body.code).toBe('unsupported_media_type');
    expect((await api.call('POST', '/api/v1/dags/x/runs', { yaml: 'params: {}' })).status).toBe(415);
    expect(
      (await api.call('POST', '/api/v1/dags', { body: '{', headers: { 'content-type': 'application/json' } }))
        .body.code,
    ).toBe('malformed_body');
  });

  it('answers 412 when the stream keeps changing under the command', async () => {
    mode = 'conflict';
    try {
      const r = await api.call('POST', '/api/v1/dags', { yaml: helloDag('conflicted') });
      expect(r.status).toBe(412);
      expect(r.body).toMatchObject({ code: 'wrong_expected_revision', stream: 'dag-conflicted' });
    } finally {
      mode = 'normal';
    }
  });

  it('answers 503 with Retry-After when the handler misses the deadline', async () => {
    mode = 'slow';
    try {
      const r = await api.call('POST', '/api/v1/dags', { yaml: helloDag('late') });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('1');
      expect(r.body.code).toBe('request_timeout');
    } finally {
      mode = 'normal';
    }
  });
});

describe('load shedding', async () => {
  // No workers: queued attempts stay in the backlog, whose bound is 1.
  const api = await startTestApi({ engine: { workers: 0, maxBacklog: 1 } });

  it('answers 429 with Retry-After while the backlog is at its bound, appending nothing', async () => {
    await api.call('POST', '/api/v1/dags', { yaml: helloDag('shed') });
    expect((await api.call('POST', '/api/v1/dags/shed/runs')).status).toBe(201);
    const deadline = Date.now() + 10_000;
    while (api.engine!.dispatcher.budget() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const before = await api.eventCount();
    const r = await api.call('POST', '/api/v1/dags/shed/runs');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('2');
    expect(r.body).toMatchObject({ code: 'backlog_full', backlog: 1 });
    expect(await api.eventCount()).toBe(before);
    expect((await api.call('GET', '/api/v1/runs')).status).toBe(200); // reads are still served
  });
});

describe('a lagging projector', async () => {
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const api = await startTestApi({
    engine: false,
    projector: { beforeCommit: async () => gate },
    api: { readYourWritesMs: 300, maxProjectorLagMs: 200 },
  });

  it('answers a write 202 with the position when the read model does not show it in time', async () => {
    gate = new Promise((resolve) => {
      release = resolve;
    });
    const r = await api.call('POST', '/api/v1/dags', { yaml: helloDag('lagging') });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe('/api/v1/dags/lagging');
    const [published] = (await api.store.readStream('dag-lagging')).slice(-1);
    expect(r.body).toEqual({ id: 'lagging', position: published!.position });
  });

  it('sheds writes with 503 and Retry-After while the lag is above the limit, appending nothing', async () => {
    while (api.projector.lagMs <= 200) await new Promise((r) => setTimeout(r, 20));
    const before = await api.eventCount();
    const r = await api.call('POST', '/api/v1/dags', { yaml: helloDag('shed-me') });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('projector_lagging');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await api.eventCount()).toBe(before);
    const ready = await api.call('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.components.projector.status).toBe('degraded');
    release();
    await api.projector.waitForPosition((await api.store.readStream('dag-lagging')).at(-1)!.position, 5000);
    expect((await api.call('GET', '/api/v1/dags/lagging')).status).toBe(200);
  });
});
