import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TaskTypeRouter } from '../../../src/workers/executors/index.js';
import { attemptOf, workerEnv } from './attempt-fixture.js';

describe('TaskTypeRouter', () => {
  const router = new TaskTypeRouter({ inheritedEnv: workerEnv });

  it('runs each task type with its executor', async () => {
    const server = createServer((_req, res) => res.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const chunks: string[] = [];
      const [shell, python, http] = await Promise.all([
        router.execute(await attemptOf({ type: 'shell', command: 'echo 1 > "$DAGRUN_OUTPUT"' })),
        router.execute(await attemptOf({ type: 'python', code: 'print("py")' })),
        router.execute(
          await attemptOf(
            { type: 'http', url },
            { onChunk: (_s, c) => chunks.push(Buffer.from(c).toString()) },
          ),
        ),
      ]);
      expect(shell).toMatchObject({ status: 'succeeded', output: 1, exitCode: 0 });
      expect(python).toMatchObject({ status: 'succeeded', output: null, stdout: { head: 'py\n' } });
      expect(http).toMatchObject({ status: 'succeeded', output: 'pong', httpStatus: 200 });
      expect(chunks.join('')).toBe('pong');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
