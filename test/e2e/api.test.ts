/**
 * The REST API end to end over real HTTP: a real engine, projector and database behind the
 * express app. Every documented operation is exercised here; the last test checks that against
 * the served OpenAPI document, read off the API's own request metrics.
 */
import { describe, expect, it } from 'vitest';
import { eventually, helloDag, startTestApi } from '../integration/api/support.js';

const api = await startTestApi();

const failing = [
  'name: flaky',
  'tasks:',
  '  - id: fetch',
  '    type: shell',
  '    command: echo boom >&2; exit 3',
  '    retry: { maxAttempts: 1 }',
  '',
].join('\n');

const slow = ['name: slow', 'tasks:', '  - id: wait', '    type: shell', '    command: sleep 30', ''].join(
  '\n',
);

async function finished(runId: string) {
  return eventually(async () => {
    const r = await api.call('GET', `/api/v1/runs/${runId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(r.body.status) ? r.body : undefined;
  });
}

describe('DAGs', () => {
  it('registers YAML with 201, the same spec again with 200, a changed spec as JSON with 201 and version 2', async () => {
    const first = await api.call('POST', '/api/v1/dags', { yaml: helloDag('hello') });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe('/api/v1/dags/hello');
    expect(first.body).toMatchObject({ id: 'hello', latestVersion: 1, paused: false, deleted: false });
    expect(
      first.body.versions.map((v: { version: number; taskIds: string[] }) => [v.version, v.taskIds]),
    ).toEqual([[1, ['greet', 'done']]]);
    const again = await api.call('POST', '/api/v1/dags', { yaml: helloDag('hello') });
    expect(again.status).toBe(200);
    expect(again.body.latestVersion).toBe(1);
    const json = {
      name: 'hello',
      params: { who: { type: 'string', default: 'world' } },
      tasks: [
        { id: 'greet', type: 'shell', command: 'echo hello {{ params.who }}' },
        { id: 'done', type: 'shell', command: 'echo done!', dependencies: ['greet'] },
      ],
    };
    const second = await api.call('POST', '/api/v1/dags', { json });
    expect(second.status).toBe(201);
    expect(second.body.latestVersion).toBe(2);
    const got = await api.call('GET', '/api/v1/dags/hello');
    expect(got.status).toBe(200);
    expect(got.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(got.body.spec.tasks[1].command).toBe('echo done!');
  });

  it('answers an invalid YAML DAG with 422 and each issue at its line and column', async () => {
    const before = await api.eventCount();
    const bad = [
      'name: p',
      'tasks:',
      '  - id: a',
      '    type: shell',
      '    command: ls',
      '    dependecies: []',
      '',
    ];
    const r = await api.call('POST', '/api/v1/dags', { yaml: bad.join('\n') });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(r.body).toMatchObject({
      type: 'https://dagrun.dev/problems/invalid_dag',
      title: 'Unprocessable Content',
      status: 422,
      code: 'invalid_dag',
      detail: 'invalid DAG (1 problem)',
      instance: '/api/v1/dags',
    });
    expect(r.body.issues).toEqual([
      {
        kind: 'unknown_field',
        path: 'tasks[0].dependecies',
        line: 6,
        column: 5,
        message: "unknown field 'dependecies' in tasks[0]; did you mean 'dependencies'?",
      },
    ]);
    const cycle = await api.call('POST', '/api/v1/dags', {
      json: { name: 'c', tasks: [{ id: 'a', type: 'shell', command: 'ls', dependencies: ['a'] }] },
    });
    expect(cycle.status).toBe(422);
    expect(cycle.body.issues[0].path).toBe('tasks[0].dependencies[0]');
    expect(cycle.body.issues[0].line).toBeUndefined();
    expect(await api.eventCount()).toBe(before);
  });

  it('lists DAGs by id with cursor pagination and filters', async () => {
    for (const name of ['list-a', 'list-b']) {
      expect((await api.call('POST', '/api/v1/dags', { yaml: helloDag(name) })).status).toBe(201);
    }
    const first = await api.call('GET', '/api/v1/dags?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((d: { id: string }) => d.id)).toEqual(['hello', 'list-a']);
    const next = await api.call(
      'GET',
      `/api/v1/dags?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
    );
    expect(next.body.items.map((d: { id: string }) => d.id)).toEqual(['list-b']);
    expect(next.body.nextCursor).toBeNull();
    const paused = await api.call('GET', '/api/v1/dags?paused=true');
    expect(paused.body).toEqual({ items: [], nextCursor: null });
  });

  it('answers an unknown DAG with 404 problem details', async () => {
    const r = await api.call('GET', '/api/v1/dags/nope', { headers: { 'x-correlation-id': 'corr-404' } });
    expect(r.status).toBe(404);
    expect(r.headers.get('x-correlation-id')).toBe('corr-404');
    expect(r.body).toEqual({
      type: 'https://dagrun.dev/problems/not_found',
      title: 'Not Found',
      status: 404,
      detail: 'DAG nope is not registered',
      code: 'not_found',
      instance: '/api/v1/dags/nope',
      correlationId: 'corr-404',
      dagId: 'nope',
    });
  });

  it('pauses (runs refused with 409) and resumes a DAG', async () => {
    const paused = await api.call('POST', '/api/v1/dags/list-a/pause', { json: { reason: 'maintenance' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: 'list-a', paused: true, pausedReason: 'maintenance' });
    const before = await api.eventCount();
    const refused = await api.call('POST', '/api/v1/dags/list-a/runs', { json: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('dag_paused');
    expect(await api.eventCount()).toBe(before);
    const resumed = await api.call('POST', '/api/v1/dags/list-a/resume');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: 'list-a', paused: false, pausedReason: null });
  });
});

describe('runs', () => {
  let runId = '';

  it('requests a run with 201 and the run, visible to a GET right after', async () => {
    const r = await api.call('POST', '/api/v1/dags/hello/runs', {
      json: { params: { who: 'api' } },
      headers: { 'x-correlation-id': 'corr-run-1' },
    });
    expect(r.status).toBe(201);
    runId = r.body.id;
    expect(r.headers.get('location')).toBe(`/api/v1/runs/${runId}`);
    expect(r.body).toMatchObject({
      dagId: 'hello',
      dagVersion: 2,
      params: { who: 'api' },
      idempotencyKey: null,
      correlationId: 'corr-run-1',
    });
    expect(r.body.taskInstances.map((t: { taskId: string }) => t.taskId)).toEqual(['greet', 'done']);
    const got = await api.call('GET', `/api/v1/runs/${runId}`);
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(runId);
    const run = await finished(runId);
    expect(run.status).toBe('succeeded');
    expect(run.tasks).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
  });

  it('gives the same run for the same Idempotency-Key (201, then 200) and 409 for other params', async () => {
    const headers = { 'idempotency-key': 'nightly-2025-01-01' };
    const first = await api.call('POST', '/api/v1/dags/hello/runs', { json: {}, headers });
    expect(first.status).toBe(201);
    expect(first.body.idempotencyKey).toBe('nightly-2025-01-01');
    const again = await api.call('POST', '/api/v1/dags/hello/runs', { headers });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const viaBody = await api.call('POST', '/api/v1/dags/hello/runs', {
      json: { idempotencyKey: 'nightly-2025-01-01' },
    });
    expect(viaBody.body.id).toBe(first.body.id);
    await finished(first.body.id);
    const before = await api.eventCount();
    const clash = await api.call('POST', '/api/v1/dags/hello/runs', {
      json: { params: { who: 'x' } },
      headers,
    });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('idempotency_key_reused');
    expect(await api.eventCount()).toBe(before);
  });

  it('refuses bad params (400), extra fields (400), an unknown DAG (404)', async () => {
    const before = await api.eventCount();
    const params = await api.call('POST', '/api/v1/dags/hello/runs', { json: { params: { whom: 'x' } } });
    expect(params.status).toBe(400);
    expect(params.body.code).toBe('validation_failed');
    expect(params.body.issues[0].path).toBe('params.whom');
    const extra = await api.call('POST', '/api/v1/dags/hello/runs', { json: { param: {} } });
    expect(extra.status).toBe(400);
    expect(extra.body.code).toBe('invalid_request');
    expect(extra.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.param']);
    const unknown = await api.call('POST', '/api/v1/dags/nope/runs', { json: {} });
    expect(unknown.status).toBe(404);
    expect(await api.eventCount()).toBe(before);
  });

  it('lists runs newest first, by DAG and status, with cursor pagination', async () => {
    const all = await api.call('GET', '/api/v1/runs?dagId=hello&status=succeeded&limit=1');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(1);
    expect(all.body.items[0].status).toBe('succeeded');
    const next = await api.call(
      'GET',
      `/api/v1/runs?dagId=hello&status=succeeded&limit=1&cursor=${encodeURIComponent(all.body.nextCursor)}`,
    );
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(all.body.items[0].id);
    expect(next.body.nextCursor).toBeNull();
    const bad = await api.call('GET', '/api/v1/runs?status=done&limit=abc');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['limit', 'status']);
  });

  it("shows a task's attempts with their logs", async () => {
    const r = await api.call('GET', `/api/v1/runs/${runId}/tasks/greet/attempts`);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(1);
    expect(r.body[0]).toMatchObject({ runId, taskId: 'greet', attempt: 1, status: 'succeeded', exitCode: 0 });
    expect(r.body[0].logs.stdout).toEqual({
      head: 'hello api\n',
      tail: '',
      totalBytes: 10,
      truncated: false,
    });
    expect((await api.call('GET', `/api/v1/runs/${runId}/tasks/nope/attempts`)).status).toBe(404);
  });

  it('cancels a running run; a finished run answers 409', async () => {
    await api.call('POST', '/api/v1/dags', { yaml: slow });
    const started = await api.call('POST', '/api/v1/dags/slow/runs');
    expect(started.status).toBe(201);
    const cancelled = await api.call('POST', `/api/v1/runs/${started.body.id}/cancel`, {
      json: { reason: 'enough' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      id: started.body.id,
      cancelRequested: true,
      cancelReason: 'enough',
    });
    expect((await finished(started.body.id)).status).toBe('cancelled');
    const again = await api.call('POST', `/api/v1/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('run_finished');
    expect((await api.call('POST', '/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel')).status).toBe(
      404,
    );
  });

  it('folds the run as it was at a position or a time (asOf)', async () => {
    const history = (await api.call('GET', `/api/v1/runs/${runId}/events`)).body.items;
    const requested = history[0];
    expect(requested.type).toBe('RunRequested');
    const atStart = await api.call('GET', `/api/v1/runs/${runId}?asOf=${requested.position}`);
    expect(atStart.status).toBe(200);
    expect(atStart.body).toEqual({
      id: runId,
      dagId: 'hello',
      dagVersion: 2,
      status: 'queued',
      cancelRequested: false,
      asOf: requested.position,
      position: requested.position,
      at: requested.createdAt,
      tasks: [
        { taskId: 'greet', status: 'pending', attempt: 0, workerId: null, lastError: null },
        { taskId: 'done', status: 'pending', attempt: 0, workerId: null, lastError: null },
      ],
    });
    const last = history.at(-1);
    const atEnd = await api.call('GET', `/api/v1/runs/${runId}?asOf=${encodeURIComponent(last.createdAt)}`);
    expect(atEnd.body.status).toBe('succeeded');
    expect(atEnd.body.tasks.map((t: { status: string }) => t.status)).toEqual(['succeeded', 'succeeded']);
    const before = await api.call('GET', `/api/v1/runs/${runId}?asOf=2000-01-01T00:00:00Z`);
    expect(before.status).toBe(404);
    const bad = await api.call('GET', `/api/v1/runs/${runId}?asOf=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('asOf');
  });

  it("returns the run's full history, run and attempt streams, in the global order", async () => {
    const r = await api.call('GET', `/api/v1/runs/${runId}/events`);
    expect(r.status).toBe(200);
    const items: { position: string; streamName: string; type: string }[] = r.body.items;
    expect([...items].sort((a, b) => (a.position < b.position ? -1 : 1))).toEqual(items);
    expect(items[0]!.type).toBe('RunRequested');
    expect(items.at(-1)!.type).toBe('RunSucceeded');
    expect(r.body.lastPosition).toBe(items.at(-1)!.position);
    expect(new Set(items.map((e) => e.streamName))).toEqual(
      new Set([`run-${runId}`, `attempt-${runId}-greet-1`, `attempt-${runId}-done-1`]),
    );
    expect((await api.call('GET', '/api/v1/runs/nope/events')).status).toBe(404);
  });
});

describe('dead letters', () => {
  it('lists, reads, retries and discards a dead-letter item', async () => {
    await api.call('POST', '/api/v1/dags', { yaml: failing });
    const run = await api.call('POST', '/api/v1/dags/flaky/runs');
    const runId = run.body.id;
    const item = await eventually(async () => {
      const r = await api.call('GET', `/api/v1/dlq?status=open&runId=${runId}`);
      return r.body.items[0];
    });
    expect(item).toMatchObject({
      id: `${runId}:fetch:1`,
      runId,
      dagId: 'flaky',
      taskId: 'fetch',
      attempt: 1,
    });
    expect(item.failure).toMatchObject({ kind: 'exit_code', exitCode: 3 });
    const one = await api.call('GET', `/api/v1/dlq/${item.id}`);
    expect(one.body).toEqual(item);
    const retried = await api.call('POST', `/api/v1/dlq/${item.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: item.id, status: 'retried' });
    const second = await eventually(async () => {
      const r = await api.call('GET', `/api/v1/dlq?status=open&runId=${runId}`);
      return r.body.items[0];
    });
    expect(second.id).toBe(`${runId}:fetch:2`);
    const discarded = await api.call('POST', `/api/v1/dlq/${second.id}/discard`);
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ id: second.id, status: 'discarded' });
    const gone = await api.call('POST', `/api/v1/dlq/${second.id}/retry`);
    expect(gone.status).toBe(404);
    expect((await api.call('GET', '/api/v1/dlq/nope')).status).toBe(404);
  });
});

describe('the event log', () => {
  it('pages through one category after a position', async () => {
    const first = await api.call('GET', '/api/v1/events?category=dag&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items.every((e: { streamName: string }) => e.streamName.startsWith('dag-'))).toBe(true);
    const next = await api.call(
      'GET',
      `/api/v1/events?category=dag&limit=2&after=${first.body.lastPosition}`,
    );
    expect(next.body.items[0].position > first.body.lastPosition).toBe(true);
    expect((await api.call('GET', '/api/v1/events?category=nope')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/events?after=12')).body.issues[0].path).toBe('after');
  });

  it('streams live events as SSE and resumes after Last-Event-ID', async () => {
    const live = await openSse('/api/v1/events?category=dag');
    await api.call('POST', '/api/v1/dags', { yaml: helloDag('sse-live') });
    const [registered] = await live.next(1);
    expect(registered).toMatchObject({ event: 'DagRegistered' });
    expect(registered!.data.streamName).toBe('dag-sse-live');
    const [published] = await live.next(1);
    expect(published!.event).toBe('DagVersionPublished');
    live.close();

    const history = (await api.call('GET', '/api/v1/events?category=dag&limit=1000')).body.items;
    const k = history.length - 2;
    const resumed = await openSse('/api/v1/events?category=dag', {
      'last-event-id': history[k - 1].position,
    });
    const frames = await resumed.next(2);
    resumed.close();
    expect(frames.map((f) => f.id)).toEqual([history[k].position, history[k + 1].position]);
  });

  it("streams a run's history, then its live events, as SSE", async () => {
    const run = await api.call('POST', '/api/v1/dags/hello/runs');
    const stream = await openSse(`/api/v1/runs/${run.body.id}/events`);
    const frames = await stream.next(1);
    expect(frames[0]!.event).toBe('RunRequested');
    const rest: Frame[] = [];
    while (!rest.some((f) => f.event === 'RunSucceeded')) rest.push(...(await stream.next(1)));
    stream.close();
    expect(rest.some((f) => f.data.streamName === `attempt-${run.body.id}-greet-1`)).toBe(true);
    const history = (await api.call('GET', `/api/v1/runs/${run.body.id}/events`)).body.items;
    expect([...frames, ...rest].map((f) => f.id)).toEqual(
      history.map((e: { position: string }) => e.position),
    );
    const resumed = await openSse(`/api/v1/runs/${run.body.id}/events`, {
      'last-event-id': history[2].position,
    });
    expect((await resumed.next(1))[0]!.id).toBe(history[3].position);
    resumed.close();
  });
});

describe('operations', () => {
  it('reports health per component, liveness and readiness', async () => {
    const health = await api.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(Object.keys(health.body.components)).toEqual([
      'postgres',
      'eventStore',
      'scheduler',
      'projector',
      'workers',
    ]);
    expect(health.body.components.workers).toEqual({ status: 'up', detail: { count: 2, running: 0 } });
    expect(health.body.components.projector.status).toBe('up');
    expect(health.body.components.postgres.status).toBe('up');
    expect((await api.call('GET', '/health/live')).body).toEqual({ status: 'ok' });
    const ready = await api.call('GET', '/health/ready');
    expect(ready.status).toBe(200);
  });

  it('serves Prometheus metrics: requests by route, engine gauges, DLQ size, projector lag', async () => {
    const r = await api.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toContain(
      'dagrun_api_requests_total{method="GET",route="/api/v1/dags/:id",status="404"} 1',
    );
    expect(r.text).toContain('dagrun_api_request_duration_seconds_bucket');
    expect(r.text).toMatch(/^dagrun_dispatcher_backlog 0$/m);
    expect(r.text).toMatch(/^dagrun_workers 2$/m);
    expect(r.text).toMatch(/^dagrun_dlq_open_items 0$/m);
    expect(r.text).toContain('dagrun_projector_lag_seconds{projection="read_models"}');
  });

  it('answers unknown routes with 404 problem details and serves Swagger UI', async () => {
    const r = await api.call('GET', '/api/v1/nothing');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('route_not_found');
    const docs = await api.call('GET', '/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
  });

  it('serves its OpenAPI 3 document, and every documented operation was exercised above', async () => {
    const r = await api.call('GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    const documented = Object.entries(r.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(documented).toEqual([
      'GET /api/v1/dags',
      'GET /api/v1/dags/{id}',
      'GET /api/v1/dlq',
      'GET /api/v1/dlq/{id}',
      'GET /api/v1/events',
      'GET /api/v1/runs',
      'GET /api/v1/runs/{id}',
      'GET /api/v1/runs/{id}/events',
      'GET /api/v1/runs/{id}/tasks/{taskId}/attempts',
      'GET /health',
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
      'POST /api/v1/dags',
      'POST /api/v1/dags/{id}/pause',
      'POST /api/v1/dags/{id}/resume',
      'POST /api/v1/dags/{id}/runs',
      'POST /api/v1/dlq/{id}/discard',
      'POST /api/v1/dlq/{id}/retry',
      'POST /api/v1/runs/{id}/cancel',
    ]);
    const metrics = await api.registry.getSingleMetric('dagrun_api_requests_total')!.get();
    const exercised = new Set(
      metrics.values
        .filter((v) => Number(v.labels['status']) < 400)
        .map((v) => `${v.labels['method']} ${String(v.labels['route']).replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(documented.filter((op) => !exercised.has(op))).toEqual([]);
  });
});

interface Frame {
  id: string;
  event: string;
  // biome-ignore lint/suspicious/noExplicitAny: event payloads are read freely
  data: any;
}

/** An SSE client over fetch: `next(n)` resolves with the next n event frames. */
async function openSse(path: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(api.url + path, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const frames: Frame[] = [];
  return {
    async next(n: number): Promise<Frame[]> {
      const deadline = Date.now() + 15_000;
      while (frames.length < n) {
        if (Date.now() > deadline) throw new Error(`no ${n} SSE frames in time`);
        const { value, done } = await reader.read();
        if (done) throw new Error('SSE stream ended');
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':') && l.includes(': '))
              .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
          );
          if (fields['id'] && fields['data']) {
            frames.push({
              id: fields['id'],
              event: fields['event'] ?? 'message',
              data: JSON.parse(fields['data']),
            });
          }
          end = buffer.indexOf('\n\n');
        }
      }
      return frames.splice(0, n);
    },
    close() {
      controller.abort();
    },
  };
}
