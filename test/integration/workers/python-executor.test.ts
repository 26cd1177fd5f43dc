import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PythonExecutor } from '../../../src/workers/executors/python.js';
import type { PythonTask } from '../../../src/workers/executors/types.js';
import { attemptOf, tempDir, workerEnv } from './attempt-fixture.js';

const executor = new PythonExecutor({ inheritedEnv: workerEnv });

const script = `
import json, os, sys
with open(os.environ["DAGRUN_OUTPUT"], "w") as f:
    json.dump({
        "args": sys.argv[1:],
        "cwd": os.getcwd(),
        "param": os.environ["DAGRUN_PARAM_LIMIT"],
        "upstream": json.loads(os.environ["DAGRUN_UPSTREAM_EXTRACT"]),
        "unbuffered": os.environ.get("PYTHONUNBUFFERED"),
    }, f)
print("done")
`;

describe('PythonExecutor', () => {
  it('runs a script relative to the base dir with args, params and upstream outputs', async () => {
    const baseDir = await tempDir();
    await mkdir(join(baseDir, 'scripts'));
    await writeFile(join(baseDir, 'scripts', 'load.py'), script);
    const task: PythonTask = {
      type: 'python',
      script: 'scripts/load.py',
      args: ['--day', '{{ params.day }}'],
    };
    const result = await executor.execute(
      await attemptOf(task, {
        baseDir,
        params: { limit: 10, day: '2024-01-02' },
        upstream: { extract: [1, 2] },
      }),
    );
    expect(result).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      output: { args: ['--day', '2024-01-02'], cwd: baseDir, param: '10', upstream: [1, 2], unbuffered: '1' },
    });
    expect(result.stdout.head).toBe('done\n');
  });

  it('runs inline code with args', async () => {
    const task: PythonTask = {
      type: 'python',
      code: 'import json, os, sys\nopen(os.environ["DAGRUN_OUTPUT"], "w").write(json.dumps(sys.argv[1:]))',
      args: ['a b', "c'd"],
    };
    const result = await executor.execute(await attemptOf(task));
    expect(result).toMatchObject({ status: 'succeeded', output: ['a b', "c'd"] });
  });

  it('fails with kind exit_code and keeps the traceback on stderr', async () => {
    const task: PythonTask = { type: 'python', code: '1 / 0' };
    const result = await executor.execute(await attemptOf(task));
    expect(result).toMatchObject({
      status: 'failed',
      exitCode: 1,
      failure: { kind: 'exit_code', exitCode: 1 },
    });
    expect(result.stderr.head).toMatch(/ZeroDivisionError/);
  });

  it('fails with kind signal when the interpreter is killed by a signal', async () => {
    const task: PythonTask = {
      type: 'python',
      code: 'import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)',
    };
    const result = await executor.execute(await attemptOf(task));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'signal', signal: 'SIGSEGV' } });
  });

  it('kills a python task and the children it started on timeout', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pid');
    const task: PythonTask = {
      type: 'python',
      code: [
        'import signal, subprocess, sys, time',
        'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
        `child = subprocess.Popen(["sleep", "300"])`,
        `open(sys.argv[1], "w").write(str(child.pid))`,
        'time.sleep(300)',
      ].join('\n'),
      args: [pidFile],
    };
    const result = await executor.execute(await attemptOf(task, { timeoutMs: 3_000, killGraceMs: 200 }));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'timeout' } });
    const { readFile } = await import('node:fs/promises');
    const { isRunning } = await import('./attempt-fixture.js');
    expect(await isRunning(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('fails with kind internal when the interpreter does not exist', async () => {
    const task: PythonTask = { type: 'python', code: 'pass' };
    const result = await executor.execute(await attemptOf(task, { pythonInterpreter: 'no-such-python-9' }));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed') expect(result.failure.message).toMatch(/no-such-python-9/);
  });

  it('fails with kind internal when neither script nor code is set', async () => {
    const result = await executor.execute(await attemptOf({ type: 'python' } as PythonTask));
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'internal' } });
    if (result.status === 'failed')
      expect(result.failure.message).toMatch(/exactly one of "script" and "code"/);
  });
});
