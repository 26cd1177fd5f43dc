/**
 * The engine end to end in one process: real Postgres, real shell and Python processes, a real
 * HTTP server on loopback.
 */

import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/cli/engine.js';
import { cancelRun } from '../../../src/commands/index.js';
import { createTestDatabase } from '../../support/database.js';
import { attemptEvents, startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';

const db = await createTestDatabase();
const store = testStore(db);
let engine: Engine;
const received: { path: string; body: string }[] = [];
const server = createServer(async (req: IncomingMessage, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  received.push({ path: req.url ?? '', body });
  if (req.url?.startsWith('/missing')) {
    res.writeHead(404).end('no');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ stored: body.length }));
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  engine = await testEngine(db, store);
});
afterAll(async () => {
  await engine.stop();
  server.close();
});

describe('engine', () => {
  it('runs shell → python → http, passing outputs and params along', async () => {
    const runId = await startRun(
      store,
      `
name: pipeline
params:
  who: { type: string, default: world }
tasks:
  - id: extract
    type: shell
    command: 'printf ''{"rows": 3, "who": "%s"}'' {{ params.who }} > "$DAGRUN_OUTPUT"'
  - id: transform
    type: python
    code: |
      import json, os
      up = json.loads(os.environ["DAGRUN_UPSTREAM_EXTRACT"])
      json.dump({"rows": up["rows"] * 2}, open(os.environ["DAGRUN_OUTPUT"], "w"))
    dependencies: [extract]
  - id: load
    type: http
    method: POST
    url: "BASE/ingest/{{ tasks.transform.output.rows }}"
    body: { rows: "{{ tasks.transform.output.rows }}", who: "{{ tasks.extract.output.who }}" }
    dependencies: [extract, transform]
`.replace('BASE', base),
      { who: "it's me" },
    );
    const events = await waitForRunEnd(store, runId);
    expect(events.filter((e) => e.type === 'TaskDeadLettered').map((e) => e.data)).toEqual([]);
    expect(events.at(-1)?.type).toBe('RunSucceeded');
    expect(received.at(-1)?.path).toBe('/ingest/6');
    expect(JSON.parse(received.at(-1)?.body ?? '')).toEqual({ rows: '6', who: "it's me" });
    const load = await attemptEvents(store, runId, 'load');
    expect(load.map((e) => e.type)).toEqual(['AttemptStarted', 'AttemptSucceeded']);
    expect(load[1]?.data).toMatchObject({ output: { stored: received.at(-1)?.body.length } });
  });

  it('retries a failing task, dead-letters it when attempts run out, and fails the run', async () => {
    const runId = await startRun(
      store,
      `
name: flaky
tasks:
  - id: boom
    type: shell
    command: "echo trying >&2; exit 3"
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 10ms }
  - id: after
    type: shell
    command: "true"
    dependencies: [boom]
`,
    );
    const events = await waitForRunEnd(store, runId);
    expect(events.map((e) => e.type)).toEqual([
      'RunRequested',
      'TaskQueued',
      'TaskRetryScheduled',
      'TaskQueued',
      'TaskDeadLettered',
      'TaskUpstreamFailed',
      'RunFailed',
    ]);
    const failed = await attemptEvents(store, runId, 'boom', 2);
    expect(failed[1]?.data).toMatchObject({ failure: { kind: 'exit_code', exitCode: 3 } });
    const { rows } = await db.pool.query(
      "SELECT head FROM attempt_logs WHERE run_id = $1 AND task_id = 'boom' AND attempt = 2 AND stream = 'stderr'",
      [runId],
    );
    expect(rows).toEqual([{ head: 'trying\n' }]);
  });

  it('does not retry an HTTP 404', async () => {
    const runId = await startRun(
      store,
      `
name: not-found
tasks:
  - id: get
    type: http
    url: "${base}/missing"
    retry: { maxAttempts: 5, initialDelay: 10ms }
`,
    );
    const events = await waitForRunEnd(store, runId);
    expect(events.map((e) => e.type)).toEqual([
      'RunRequested',
      'TaskQueued',
      'TaskDeadLettered',
      'RunFailed',
    ]);
  });

  it('cancels a run: the running attempt is abandoned and its process killed', async () => {
    const pidFile = join(await mkdtemp(join(tmpdir(), 'dagrun-cancel-')), 'pid');
    const runId = await startRun(
      store,
      `
name: slow
tasks:
  - id: sleep
    type: shell
    command: "echo $$ > ${pidFile}; sleep 30"
`,
    );
    // Cancel once the task's shell is up and has written its pid.
    await expect
      .poll(() => readFile(pidFile, 'utf8').catch(() => ''), { timeout: 10_000 })
      .toMatch(/^\d+\n$/);
    await cancelRun({ store, metadata: { correlationId: 'c', actor: 'test' } }, runId);
    const events = await waitForRunEnd(store, runId);
    expect(events.at(-1)?.type).toBe('RunCancelled');
    const attempt = await attemptEvents(store, runId, 'sleep');
    expect(attempt.map((e) => e.type)).toEqual(['AttemptStarted', 'AttemptAbandoned']);
    expect(attempt[1]?.data).toMatchObject({ failure: { kind: 'cancelled' } });
    // The executor was told and killed the task's process group.
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await expect
      .poll(
        () => {
          try {
            process.kill(pid, 0);
            return 'alive';
          } catch {
            return 'gone';
          }
        },
        { timeout: 10_000 },
      )
      .toBe('gone');
  });
});
