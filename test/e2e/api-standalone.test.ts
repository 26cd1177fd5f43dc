/** `dagrun standalone --port` as a real process: the API it serves runs a DAG end to end. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exited, spawnDagrun, waitForLine } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';

const db = await createTestDatabase();

describe('dagrun standalone --port', () => {
  it('serves the API: register, run, read back, health; SIGTERM stops it with 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-api-'));
    await mkdir(join(dir, 'dags')); // tasks run with the DAG folder as their working directory
    const child = spawnDagrun(['standalone', '--dags', join(dir, 'dags'), '--rescan', '0', '--port', '0'], {
      DAGRUN_DATA_DIR: join(dir, '.dagrun'),
      DATABASE_URL: db.url,
      DAGRUN_API_TOKENS: 'ci:ci-token-0123456789:write',
    });
    try {
      const [, url] = await waitForLine(child, /API on (http:\/\/127\.0\.0\.1:\d+)/);
      const auth = { authorization: 'Bearer ci-token-0123456789' };
      const registered = await fetch(`${url}/api/v1/dags`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/yaml' },
        body: 'name: smoke\ntasks:\n  - { id: hi, type: shell, command: echo hi }\n',
      });
      expect(registered.status).toBe(201);
      const run = await fetch(`${url}/api/v1/dags/smoke/runs`, { method: 'POST', headers: auth });
      expect(run.status).toBe(201);
      const { id } = (await run.json()) as { id: string };
      let status = '';
      for (let i = 0; i < 200 && status !== 'succeeded'; i++) {
        const got = await fetch(`${url}/api/v1/runs/${id}`, { headers: auth });
        status = ((await got.json()) as { status: string }).status;
        if (status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe('succeeded');
      expect((await fetch(`${url}/api/v1/runs/${id}`)).status).toBe(401);
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
      expect(health.status).toBe('ok');
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
