import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShellExecutor } from '../../../src/workers/executors/shell.js';
import type { ShellTask } from '../../../src/workers/executors/types.js';
import { attemptOf, tempDir, workerEnv } from './attempt-fixture.js';

const executor = new ShellExecutor({ inheritedEnv: workerEnv });
const shell = (command: ShellTask['command'], extra: Partial<ShellTask> = {}): ShellTask => ({
  type: 'shell',
  command,
  ...extra,
});

describe('ShellExecutor', () => {
  it('succeeds with the JSON the task wrote to $DAGRUN_OUTPUT, and captures stdout and stderr', async () => {
    const result = await executor.execute(
      await attemptOf(shell('echo out; echo err >&2; printf \'{"rows": 3}\' > "$DAGRUN_OUTPUT"')),
    );
    expect(result).toMatchObject({ status: 'succeeded', output: { rows: 3 }, exitCode: 0 });
    expect(result.stdout).toEqual({ head: 'out\n', tail: '', totalBytes: 4, truncated: false });
    expect(result.stderr.head).toBe('err\n');
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('gives the task real pipes: writing to /dev/stdout and /dev/stderr works', async () => {
    // With a socketpair (what child_process makes) opening /dev/stdout fails with ENXIO.
    const result = await executor.execute(
      await attemptOf(shell('echo out > /dev/stdout; echo err > /dev/stderr')),
    );
    expect(result).toMatchObject({
      status: 'succeeded',
      stdout: { head: 'out\n' },
      stderr: { head: 'err\n' },
    });
  });

  it('has output null when the task writes no output file', async () => {
    const result = await executor.execute(await attemptOf(shell('true')));
    expect(result).toMatchObject({ status: 'succeeded', output: null });
  });

  it('fails with kind internal when the output file is not JSON', async () => {
    const result = await executor.execute(await attemptOf(shell('echo not json > "$DAGRUN_OUTPUT"')));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/does not hold JSON.*not json/s);
  });

  it('fails with kind internal when the output file is over the limit', async () => {
    const small = new ShellExecutor({ inheritedEnv: workerEnv, maxOutputBytes: 10 });
    const result = await small.execute(await attemptOf(shell('echo \'"01234567890"\' > "$DAGRUN_OUTPUT"')));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/10-byte limit/);
  });

  it('passes params, upstream outputs, ids and the task env, but not the worker env', async () => {
    process.env['DAGRUN_TEST_SECRET'] = 'worker-secret';
    try {
      const request = await attemptOf(
        shell('env | sort', { env: { GREETING: 'hi there', DAGRUN_TASK_ID: 'spoofed' } }),
        {
          params: { region: 'eu-west', 'batch-size': 500, dryRun: false },
          upstream: { 'fetch-data': { rows: [1, 2] } },
          attempt: 3,
        },
      );
      const result = await executor.execute(request);
      expect(result.status).toBe('succeeded');
      const lines = result.stdout.head.split('\n');
      expect(lines).toEqual(
        expect.arrayContaining([
          'DAGRUN_PARAM_REGION=eu-west',
          'DAGRUN_PARAM_BATCH_SIZE=500',
          'DAGRUN_PARAM_DRYRUN=false',
          'DAGRUN_UPSTREAM_FETCH_DATA={"rows":[1,2]}',
          'DAGRUN_RUN_ID=run-1',
          'DAGRUN_TASK_ID=task-a',
          'DAGRUN_ATTEMPT=3',
          'GREETING=hi there',
          `PATH=${process.env['PATH']}`,
        ]),
      );
      expect(lines.find((line) => line.startsWith('DAGRUN_OUTPUT='))).toMatch(/task-a\.3\.output\.json$/);
      expect(result.stdout.head).not.toContain('worker-secret');
      expect(result.stdout.head).not.toContain('spoofed');
    } finally {
      delete process.env['DAGRUN_TEST_SECRET'];
    }
  });

  it('passes a large upstream output through a file instead of the environment', async () => {
    const big = { blob: 'x'.repeat(100_000) };
    const result = await executor.execute(
      await attemptOf(
        shell('test -z "$DAGRUN_UPSTREAM_BIG" && cat "$DAGRUN_UPSTREAM_BIG_FILE" > "$DAGRUN_OUTPUT"'),
        {
          upstream: { big },
        },
      ),
    );
    expect(result).toMatchObject({ status: 'succeeded', output: big });
  });

  it('runs in the base dir by default and in cwd relative to it', async () => {
    const baseDir = await tempDir();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(baseDir, 'sub'));
    const here = await executor.execute(await attemptOf(shell('pwd'), { baseDir }));
    const sub = await executor.execute(await attemptOf(shell('pwd', { cwd: 'sub' }), { baseDir }));
    expect(here.stdout.head.trim()).toBe(baseDir);
    expect(sub.stdout.head.trim()).toBe(join(baseDir, 'sub'));
  });

  it('fails with kind exit_code and the code on a non-zero exit', async () => {
    const result = await executor.execute(await attemptOf(shell('echo partial > "$DAGRUN_OUTPUT"; exit 3')));
    expect(result).toMatchObject({
      status: 'failed',
      exitCode: 3,
      failure: { kind: 'exit_code', exitCode: 3 },
    });
  });

  it('fails with kind signal when the task is killed by a signal that is not ours', async () => {
    const result = await executor.execute(await attemptOf(shell(['/bin/sh', '-c', 'kill -KILL $$'])));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'signal', signal: 'SIGKILL' } });
  });

  it('runs an argv array without a shell, each element rendered as plain text', async () => {
    const result = await executor.execute(
      await attemptOf(shell(['printf', '%s|', '{{ params.x }}', '$HOME']), { params: { x: "it's $(id)" } }),
    );
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(result.stdout.head).toBe("it's $(id)|$HOME|");
  });

  it('renders a param as one inert shell word: $(rm -rf /); echo pwned runs nothing', async () => {
    const baseDir = await tempDir();
    const canary = join(baseDir, 'canary');
    await writeFile(canary, 'alive');
    const payload = `$(rm -f ${canary}); echo pwned; rm -f ${canary} \`rm -f ${canary}\` '"'`;
    const result = await executor.execute(
      await attemptOf(shell('printf %s {{params.x}}'), {
        baseDir,
        params: { x: payload },
      }),
    );
    expect(result.status).toBe('succeeded');
    expect(result.stdout.head).toBe(payload);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(canary, 'utf8')).toBe('alive');
  });

  it('renders the exact payload from the brief without running it', async () => {
    const result = await executor.execute(
      await attemptOf(shell('echo {{ params.x }}'), { params: { x: '$(rm -rf /); echo pwned' } }),
    );
    expect(result.stdout.head).toBe('$(rm -rf /); echo pwned\n');
  });

  it('renders upstream outputs and fields as quoted words', async () => {
    const result = await executor.execute(
      await attemptOf(
        shell('printf "%s|" {{ tasks.a.output.user.name }} {{ tasks.a.output.ids.1 }} {{ tasks.a.output }}'),
        {
          upstream: { a: { user: { name: "O'Brien" }, ids: [7, 8] } },
        },
      ),
    );
    expect(result.stdout.head).toBe(`O'Brien|8|{"user":{"name":"O'Brien"},"ids":[7,8]}|`);
  });

  it('fails with kind internal, before running anything, on an unknown reference', async () => {
    const baseDir = await tempDir();
    const result = await executor.execute(
      await attemptOf(shell('touch ran; echo {{ params.missing }}'), { baseDir, params: { known: 1 } }),
    );
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed')
      expect(result.failure.message).toMatch(/unknown param "missing" \(known: known\)/);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(baseDir)).toEqual([]);
  });

  it('fails with kind internal when the command cannot be started', async () => {
    const result = await executor.execute(await attemptOf(shell(['/no/such/program'])));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/could not start.*ENOENT/s);
  });

  it('streams every chunk to the onChunk sink', async () => {
    const seen: string[] = [];
    await executor.execute(
      await attemptOf(shell('echo one; echo two >&2'), {
        onChunk: (stream, chunk) => seen.push(`${stream}:${Buffer.from(chunk).toString()}`),
      }),
    );
    expect(seen.sort()).toEqual(['stderr:two\n', 'stdout:one\n']);
  });
});
