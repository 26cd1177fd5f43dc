/**
 * `dagrun run` and `dagrun standalone` as real processes: the embedded Postgres default, exit
 * codes, the DLQ listing, clean shutdown, and a SIGKILL mid-run that the next start recovers from.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dagrun, exited, spawnDagrun, waitForLine } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const db = await createTestDatabase();

async function dagFile(dir: string, name: string, body: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `name: ${name}\n${body}`);
  return file;
}

function postgresRunningIn(dataDir: string): boolean {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').some((line) => line.includes('postgres') && line.includes(dataDir));
}

describe('dagrun run', () => {
  it('runs a DAG on the embedded Postgres and exits 0, leaving no server behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-e2e-'));
    // As root, the embedded server runs as an unprivileged user, which must reach the data dir.
    await chmod(dir, 0o755);
    const file = await dagFile(
      dir,
      'hello',
      `params:
  who: { type: string, default: world }
tasks:
  - { id: greet, type: shell, command: 'echo hello {{ params.who }} > "$DAGRUN_OUTPUT.txt"; echo "{\\"ok\\": true}" > "$DAGRUN_OUTPUT"' }
  - { id: after, type: python, code: "print('done')", dependencies: [greet] }
`,
    );
    const dataDir = join(dir, '.dagrun');
    const result = await dagrun(
      ['run', file, '--param', 'who=e2e'],
      { DAGRUN_DATA_DIR: dataDir, DATABASE_URL: '' },
      120_000,
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/hello v1 \(embedded Postgres\) · run [0-9a-f-]{36}/);
    expect(result.stdout).toMatch(/✔ greet\s+succeeded/);
    expect(result.stdout).toMatch(/✔ after\s+succeeded/);
    expect(result.stdout).toMatch(/run succeeded\n$/);
    expect(result.code).toBe(0);
    expect(postgresRunningIn(dataDir)).toBe(false);
  });

  it('exits 1 and lists the dead letters with their stderr when the run fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-e2e-'));
    const file = await dagFile(
      dir,
      'failing',
      `tasks:
  - { id: ok, type: shell, command: "true" }
  - id: broken
    type: shell
    command: "echo 'disk on fire' >&2; exit 7"
    dependencies: [ok]
    retry: { maxAttempts: 2, initialDelay: 10ms }
  - { id: never, type: shell, command: "true", dependencies: [broken] }
`,
    );
    const result = await dagrun(
      ['run', file],
      { DATABASE_URL: db.url, DAGRUN_DATA_DIR: join(dir, '.dagrun') },
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/dead-letter queue \(1\):\n {2}broken · attempt 2 · exit_code: .*7/);
    expect(result.stdout).toContain('│ disk on fire');
    expect(result.stdout).toMatch(/⊘ never\s+upstream_failed/);
    expect(result.stdout).toMatch(/run failed\n$/);
  });

  it('traces the whole run under one `dagrun run` span when OTEL_TRACES_EXPORTER is set', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const dir = await mkdtemp(join(tmpdir(), 'dagrun-e2e-'));
      const file = await dagFile(
        dir,
        'traced',
        `tasks:
  - { id: one, type: shell, command: "true" }
  - { id: two, type: noop, dependencies: [one] }
`,
      );
      const result = await dagrun(
        ['run', file],
        {
          DATABASE_URL: db.url,
          DAGRUN_DATA_DIR: join(dir, '.dagrun'),
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        },
        60_000,
      );
      expect(result.code, result.stderr).toBe(0);
      const root = receiver.spans.find((s) => s.name === 'dagrun run traced');
      expect(root?.parentSpanId).toBe('');
      const mine = receiver.spans.filter((s) => s.traceId === root?.traceId);
      const run = mine.find((s) => s.name === 'dagrun.run');
      expect(run?.parentSpanId).toBe(root?.spanId);
      const dispatches = mine.filter((s) => s.name === 'dagrun.dispatch');
      const attempts = mine.filter((s) => s.name === 'dagrun.attempt');
      expect(dispatches.map((s) => s.attributes['dagrun.task.id']).sort()).toEqual(['one', 'two']);
      expect(attempts).toHaveLength(2);
      for (const attempt of attempts) expect(dispatches.map((d) => d.spanId)).toContain(attempt.parentSpanId);
    } finally {
      await receiver.close();
    }
  });
});

describe('dagrun standalone', () => {
  it('survives a SIGKILL mid-run: after a restart the run finishes, then SIGTERM stops it cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-e2e-'));
    const dags = join(dir, 'dags');
    await mkdir(dags);
    // The first attempt sleeps long enough to be killed mid-task; a retry succeeds at once.
    await dagFile(
      dags,
      'slow',
      `tasks:
  - id: nap
    type: shell
    command: 'if [ "$DAGRUN_ATTEMPT" = 1 ]; then sleep 60; fi'
    retry: { maxAttempts: 3, initialDelay: 10ms }
  - { id: then, type: shell, command: "true", dependencies: [nap] }
`,
    );
    const env = { DAGRUN_DATA_DIR: join(dir, '.dagrun'), DATABASE_URL: db.url };
    const first = spawnDagrun(['standalone', '--dags', dags, '--rescan', '0'], env);
    await waitForLine(first, /dagrun standalone: database/);
    await new Promise((r) => setTimeout(r, 500));
    const requested = await dagrun(['runs', 'request', 'slow'], env);
    const runId = requested.stdout.trim();
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const started = async () =>
        (await client.query('SELECT 1 FROM events WHERE stream_name = $1', [`attempt-${runId}-nap-1`]))
          .rowCount ?? 0;
      for (let i = 0; i < 200 && (await started()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await started()).toBe(1);

      first.kill('SIGKILL');
      await exited(first);

      const second = spawnDagrun(['standalone', '--dags', dags, '--rescan', '0'], env);
      await waitForLine(second, /dagrun standalone: database/);
      const types = async () =>
        (
          await client.query('SELECT type FROM events WHERE stream_name = $1 ORDER BY global_seq', [
            `run-${runId}`,
          ])
        ).rows.map((r) => r.type);
      for (let i = 0; i < 1200 && !(await types()).includes('RunSucceeded'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await types()).toEqual([
        'RunRequested',
        'TaskQueued',
        'TaskRetryScheduled',
        'TaskQueued',
        'TaskQueued',
        'RunSucceeded',
      ]);
      const abandoned = await client.query(
        'SELECT data FROM events WHERE stream_name = $1 ORDER BY global_seq',
        [`attempt-${runId}-nap-1`],
      );
      expect(abandoned.rows.map((r) => r.data.failure?.kind ?? 'started')).toEqual([
        'started',
        'worker_lost',
      ]);

      second.kill('SIGTERM');
      expect(await exited(second)).toBe(0);
    } finally {
      await client.end();
    }
  });
});
