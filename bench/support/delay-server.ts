/**
 * A loopback HTTP server that answers `GET /sleep/<ms>` after `ms` milliseconds: the body of a
 * skewed task for dagrun, whose task types run processes or HTTP calls (a shell `sleep` would add
 * a fork and an exec to every 10 ms task on a 2-core machine).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayServer {
  readonly base: string;
  close(): Promise<void>;
}

export async function startDelayServer(): Promise<DelayServer> {
  const server = createServer((req, res) => {
    const ms = Number(/^\/sleep\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), ms);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
