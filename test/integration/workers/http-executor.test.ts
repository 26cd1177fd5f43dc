import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpExecutor } from '../../../src/workers/executors/http.js';
import type { HttpTask } from '../../../src/workers/executors/types.js';
import { attemptOf } from './attempt-fixture.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server on 127.0.0.1 that records each request and answers with `handle`. */
async function serve(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value));
};
const executor = new HttpExecutor();
const http = (url: string, extra: Partial<HttpTask> = {}): HttpTask => ({ type: 'http', url, ...extra });

describe('HttpExecutor', () => {
  it('succeeds with the JSON body as output, rendering templates in url, headers and body', async () => {
    const { base, seen } = await serve((_req, res) => json(res, 201, { id: 42 }));
    const task = http(`${base}/items/{{ params.name }}?after={{ tasks.list.output.cursor }}`, {
      method: 'post',
      headers: { authorization: 'Bearer {{ params.token }}' },
      body: { name: '{{ params.name }}', tags: ['from {{ tasks.list.output.cursor }}'], count: 3 },
      expectedStatus: [{ min: 200, max: 201 }],
    });
    const result = await executor.execute(
      await attemptOf(task, {
        params: { name: 'a/b c&d', token: 't0k' },
        upstream: { list: { cursor: 'x=1' } },
      }),
    );
    expect(result).toMatchObject({ status: 'succeeded', output: { id: 42 }, httpStatus: 201 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/items/a%2Fb%20c%26d?after=x%3D1' });
    expect(seen[0]!.headers['authorization']).toBe('Bearer t0k');
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: 'a/b c&d', tags: ['from x=1'], count: 3 });
    expect(result.stdout.head).toBe('{"id":42}');
  });

  it('has the body text as output when the content type is not JSON', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"looks": "like json"}');
    });
    const result = await executor.execute(await attemptOf(http(`${base}/`)));
    expect(result).toMatchObject({ status: 'succeeded', output: '{"looks": "like json"}' });
  });

  it.each([404, 503])('fails with kind http_status on %i, keeping the body', async (status) => {
    const { base } = await serve((_req, res) => json(res, status, { error: 'nope' }));
    const result = await executor.execute(await attemptOf(http(`${base}/x`)));
    expect(result).toMatchObject({
      status: 'failed',
      httpStatus: status,
      failure: { kind: 'http_status', httpStatus: status },
    });
    if (result.status === 'failed') expect(result.failure.message).toContain(`answered ${status}`);
    expect(result.stdout.head).toBe('{"error":"nope"}');
  });

  it('accepts a status the task lists, and rejects a 2xx it does not', async () => {
    const { base } = await serve((req, res) => json(res, req.url === '/gone' ? 404 : 200, {}));
    const gone = await executor.execute(
      await attemptOf(http(`${base}/gone`, { expectedStatus: [404, 410] })),
    );
    const ok = await executor.execute(await attemptOf(http(`${base}/ok`, { expectedStatus: [204] })));
    expect(gone).toMatchObject({ status: 'succeeded', httpStatus: 404 });
    expect(ok).toMatchObject({ status: 'failed', failure: { kind: 'http_status', httpStatus: 200 } });
  });

  it('fails with kind network when nothing listens on the port', async () => {
    const { base } = await serve(() => {});
    const server = servers.pop()!;
    await new Promise((resolve) => server.close(resolve));
    const result = await executor.execute(await attemptOf(http(`${base}/`)));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'network' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/ECONNREFUSED/);
  });

  it('times out when the server stalls in the middle of the body', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('first half…');
    });
    const started = performance.now();
    const result = await executor.execute(await attemptOf(http(`${base}/`), { timeoutMs: 400 }));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'failed', httpStatus: 200, failure: { kind: 'timeout' } });
    expect(result.stdout.head).toBe('first half…');
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('times out when the server never answers', async () => {
    const { base } = await serve(() => {});
    const result = await executor.execute(await attemptOf(http(`${base}/`), { timeoutMs: 300 }));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'timeout' } });
    expect(result).not.toHaveProperty('httpStatus');
  });

  it('is cancelled by the AbortSignal', async () => {
    const { base } = await serve(() => {});
    const controller = new AbortController();
    const pending = executor.execute(await attemptOf(http(`${base}/`), { signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    expect(await pending).toMatchObject({ status: 'failed', failure: { kind: 'cancelled' } });
  });

  it('bounds the captured body and counts the rest; a body over the output limit is not an output', async () => {
    const size = 3 * 1024 * 1024;
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('h'.repeat(1024) + 'm'.repeat(size - 2048) + 't'.repeat(1024));
    });
    const result = await executor.execute(await attemptOf(http(`${base}/`)));
    expect(result).toMatchObject({ status: 'failed', httpStatus: 200, failure: { kind: 'internal' } });
    if (result.status === 'failed')
      expect(result.failure.message).toMatch(/3145728 bytes, over the 1048576-byte/);
    expect(result.stdout.totalBytes).toBe(size);
    expect(result.stdout.truncated).toBe(true);
    expect(result.stdout.head.length).toBe(64 * 1024);
    expect(result.stdout.head.startsWith('h'.repeat(1024) + 'm')).toBe(true);
    expect(result.stdout.tail.endsWith('m' + 't'.repeat(1024))).toBe(true);
    expect(result.stdout.tail.length).toBe(64 * 1024);
  });

  it('keeps a body under the output limit whole as output while the capture stays bounded', async () => {
    const body = 'y'.repeat(200_000);
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(body);
    });
    const result = await executor.execute(await attemptOf(http(`${base}/`)));
    expect(result).toMatchObject({ status: 'succeeded', output: body });
    expect(result.stdout).toMatchObject({ totalBytes: 200_000, truncated: true });
  });

  it('fails with kind internal and sends nothing when a reference is unknown', async () => {
    const { base, seen } = await serve((_req, res) => json(res, 200, {}));
    const result = await executor.execute(await attemptOf(http(`${base}/{{ tasks.nope.output.id }}`)));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed')
      expect(result.failure.message).toMatch(/"nope" is not a finished upstream/);
    expect(seen).toHaveLength(0);
  });

  it('refuses a header value that would inject another header', async () => {
    const { base, seen } = await serve((_req, res) => json(res, 200, {}));
    const task = http(`${base}/`, { headers: { 'x-user': '{{ params.user }}' } });
    const result = await executor.execute(
      await attemptOf(task, { params: { user: 'bob\r\nx-admin: true' } }),
    );
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/^invalid request .*header/i);
    expect(seen).toHaveLength(0);
  });
});
