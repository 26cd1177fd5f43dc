/**
 * Conditional requests over real HTTP: the ETag of a DAG, a run and a DLQ item (the revision of
 * the stream behind it), If-Match on every write to them — a stale one is 412 and appends
 * nothing, a malformed one is 400 — and If-None-Match on a DAG (304).
 */
import { describe, expect, it } from 'vitest';
import { eventually, helloDag, startTestApi } from '../integration/api/support.js';

const api = await startTestApi();

const slow = [
  'name: slow-cond',
  'tasks:',
  '  - id: wait',
  '    type: shell',
  '    command: sleep 30',
  '',
].join('\n');
const failing = [
  'name: flaky-cond',
  'tasks:',
  '  - id: fetch',
  '    type: shell',
  '    command: exit 3',
  '    retry: { maxAttempts: 1 }',
  '',
].join('\n');

const changed = (name: string) => helloDag(name).replace('command: echo done', 'command: echo finished');

describe('DAGs', () => {
  it('serve their stream revision as the ETag, and 304 for a matching If-None-Match', async () => {
    const created = await api.call('POST', '/api/v1/dags', { yaml: helloDag('cond') });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"'); // DagRegistered, DagVersionPublished
    const got = await api.call('GET', '/api/v1/dags/cond');
    expect(got.headers.get('etag')).toBe('"1"');
    // fetch sends `Cache-Control: no-cache` with a conditional request unless told otherwise.
    const revalidate = (etag: string) => ({ 'if-none-match': etag, 'cache-control': 'max-age=0' });
    const cached = await api.call('GET', '/api/v1/dags/cond', { headers: revalidate('"1"') });
    expect(cached.status).toBe(304);
    const other = await api.call('GET', '/api/v1/dags/cond', { headers: revalidate('"0"') });
    expect(other.status).toBe(200);
  });

  it('pause and resume with a current If-Match, and move the ETag', async () => {
    const paused = await api.call('POST', '/api/v1/dags/cond/pause', { headers: { 'if-match': '"1"' } });
    expect(paused.status).toBe(200);
    expect(paused.body.paused).toBe(true);
    expect(paused.headers.get('etag')).toBe('"2"');
    const resumed = await api.call('POST', '/api/v1/dags/cond/resume', {
      headers: { 'if-match': '"7", "2"' },
    });
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('etag')).toBe('"3"');
    const any = await api.call('POST', '/api/v1/dags/cond/resume', { headers: { 'if-match': '*' } });
    expect(any.status).toBe(200); // already resumed: nothing to do, but the DAG exists
    expect(any.headers.get('etag')).toBe('"3"');
  });

  it('refuse a stale or weak If-Match with 412 problem details, appending nothing', async () => {
    const before = await api.eventCount();
    const stale = await api.call('POST', '/api/v1/dags/cond/pause', {
      json: { reason: 'late' },
      headers: { 'if-match': '"2"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(stale.body).toMatchObject({
      type: 'https://dagrun.dev/problems/precondition_failed',
      title: 'Precondition Failed',
      status: 412,
      code: 'precondition_failed',
      stream: 'dag-cond',
      currentEtag: '"3"',
    });
    const weak = await api.call('POST', '/api/v1/dags/cond/pause', { headers: { 'if-match': 'W/"3"' } });
    expect(weak.status).toBe(412);
    const foreign = await api.call('POST', '/api/v1/dags/cond/resume', { headers: { 'if-match': '"abc"' } });
    expect(foreign.status).toBe(412);
    expect(await api.eventCount()).toBe(before);
    expect((await api.call('GET', '/api/v1/dags/cond')).body.paused).toBe(false);
  });

  it('refuse a malformed If-Match with 400, appending nothing', async () => {
    const before = await api.eventCount();
    for (const value of ['3', '"3', '"3" "4"', 'W/3', '']) {
      const r = await api.call('POST', '/api/v1/dags/cond/pause', { headers: { 'if-match': value } });
      expect(r.status, `If-Match: ${value}`).toBe(400);
      expect(r.body.code).toBe('invalid_if_match');
      expect(r.body.issues[0].path).toBe('If-Match');
    }
    expect(await api.eventCount()).toBe(before);
  });

  it('re-register with If-Match only while the DAG is at that ETag', async () => {
    const before = await api.eventCount();
    const stale = await api.call('POST', '/api/v1/dags', {
      yaml: changed('cond'),
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    const missing = await api.call('POST', '/api/v1/dags', {
      yaml: helloDag('cond-new'),
      headers: { 'if-match': '*' },
    });
    expect(missing.status).toBe(412);
    expect(missing.body).toMatchObject({ code: 'precondition_failed', currentEtag: null });
    expect(await api.eventCount()).toBe(before);
    const current = await api.call('POST', '/api/v1/dags', {
      yaml: changed('cond'),
      headers: { 'if-match': '"3"' },
    });
    expect(current.status).toBe(201);
    expect(current.body.latestVersion).toBe(2);
    expect(current.headers.get('etag')).toBe('"4"');
  });

  it('let exactly one of two writes with the same If-Match through', async () => {
    const etag = (await api.call('GET', '/api/v1/dags/cond')).headers.get('etag')!;
    const before = await api.eventCount();
    const [register, pause] = await Promise.all([
      api.call('POST', '/api/v1/dags', { yaml: helloDag('cond'), headers: { 'if-match': etag } }),
      api.call('POST', '/api/v1/dags/cond/pause', { headers: { 'if-match': etag } }),
    ]);
    const statuses = [register.status, pause.status];
    expect(statuses.filter((s) => s === 412)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200 || s === 201)).toHaveLength(1);
    expect(await api.eventCount()).toBe(before + 1); // DagVersionPublished or DagPaused
  });

  it('answer 404 for an unknown DAG whatever the If-Match', async () => {
    const r = await api.call('POST', '/api/v1/dags/nope/pause', { headers: { 'if-match': '"0"' } });
    expect(r.status).toBe(404);
  });
});

describe('runs', () => {
  it('serve the run stream revision as the ETag; cancel honours If-Match; If-None-Match is no cache', async () => {
    await api.call('POST', '/api/v1/dags', { yaml: slow });
    const started = await api.call('POST', '/api/v1/dags/slow-cond/runs');
    expect(started.status).toBe(201);
    expect(started.headers.get('etag')).toBe('"0"'); // RunRequested
    const runId = started.body.id;
    // Once the task runs, the run stream holds RunRequested and TaskQueued until it is cancelled.
    const running = await eventually(async () => {
      const r = await api.call('GET', `/api/v1/runs/${runId}`);
      return r.body.taskInstances[0].status === 'running' ? r : undefined;
    });
    expect(running.headers.get('etag')).toBe('"1"');
    const revalidated = await api.call('GET', `/api/v1/runs/${runId}`, {
      headers: { 'if-none-match': '"1"' },
    });
    expect(revalidated.status).toBe(200);

    const before = await api.eventCount();
    const stale = await api.call('POST', `/api/v1/runs/${runId}/cancel`, { headers: { 'if-match': '"0"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({
      code: 'precondition_failed',
      stream: `run-${runId}`,
      currentEtag: '"1"',
    });
    const malformed = await api.call('POST', `/api/v1/runs/${runId}/cancel`, {
      headers: { 'if-match': '1' },
    });
    expect(malformed.status).toBe(400);
    expect(await api.eventCount()).toBe(before);

    const cancelled = await api.call('POST', `/api/v1/runs/${runId}/cancel`, {
      json: { reason: 'conditional' },
      headers: { 'if-match': '"1"' },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ cancelRequested: true, cancelReason: 'conditional' });
    expect(Number(JSON.parse(cancelled.headers.get('etag')!))).toBeGreaterThanOrEqual(2);
  });

  it('answer 404 for an unknown run and 409 for a finished one, whatever the If-Match', async () => {
    const unknown = await api.call('POST', '/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel', {
      headers: { 'if-match': '"0"' },
    });
    expect(unknown.status).toBe(404);
    const runs = await api.call('GET', '/api/v1/runs?dagId=slow-cond');
    const runId = runs.body.items[0].id;
    await eventually(async () => {
      const r = await api.call('GET', `/api/v1/runs/${runId}`);
      return r.body.status === 'cancelled' ? r : undefined;
    });
    const finished = await api.call('POST', `/api/v1/runs/${runId}/cancel`, {
      headers: { 'if-match': '"0"' },
    });
    expect(finished.status).toBe(409);
  });
});

describe('dead letters', () => {
  it("carry their run's ETag; retry and discard honour If-Match", async () => {
    await api.call('POST', '/api/v1/dags', { yaml: failing });
    const run = await api.call('POST', '/api/v1/dags/flaky-cond/runs');
    const runId = run.body.id;
    const item = await eventually(async () => {
      const r = await api.call('GET', `/api/v1/dlq?status=open&runId=${runId}`);
      return r.body.items[0];
    });
    // The run is over (failed) once its item is open: its stream stands still.
    const finished = await eventually(async () => {
      const r = await api.call('GET', `/api/v1/runs/${runId}`);
      return r.body.status === 'failed' ? r : undefined;
    });
    const one = await api.call('GET', `/api/v1/dlq/${item.id}`);
    expect(one.headers.get('etag')).toBe(finished.headers.get('etag'));
    const etag = one.headers.get('etag')!;
    const stale = `"${Number(JSON.parse(etag)) - 1}"`;

    const before = await api.eventCount();
    expect(
      (await api.call('POST', `/api/v1/dlq/${item.id}/retry`, { headers: { 'if-match': stale } })).status,
    ).toBe(412);
    expect(
      (await api.call('POST', `/api/v1/dlq/${item.id}/discard`, { headers: { 'if-match': stale } })).status,
    ).toBe(412);
    expect(
      (await api.call('POST', `/api/v1/dlq/${item.id}/discard`, { headers: { 'if-match': 'x' } })).status,
    ).toBe(400);
    expect(await api.eventCount()).toBe(before);

    const discarded = await api.call('POST', `/api/v1/dlq/${item.id}/discard`, {
      headers: { 'if-match': etag },
    });
    expect(discarded.status).toBe(200);
    expect(discarded.body).toMatchObject({ id: item.id, status: 'discarded' });
    expect(discarded.headers.get('etag')).toBe(`"${Number(JSON.parse(etag)) + 1}"`);
  });
});
