/**
 * Stopping tasks: timeouts and cancellation kill the whole process group, including children
 * that ignore SIGTERM, and a task's leftover background jobs do not outlive it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShellExecutor } from '../../../src/workers/executors/shell.js';
import type { ShellTask } from '../../../src/workers/executors/types.js';
import { attemptOf, isRunning, tempDir, workerEnv } from './attempt-fixture.js';

const executor = new ShellExecutor({ inheritedEnv: workerEnv });
const shell = (command: string): ShellTask => ({ type: 'shell', command });

/** Waits until `file` lists `count` pids (the task has forked everything). */
async function pidsIn(file: string, count: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) {
    const pids = (await readFile(file, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
    if (pids.length >= count) return pids;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${file} never listed ${count} pids`);
}

/** Leader plus two children that ignore SIGTERM (the ignored disposition is inherited). */
const stubborn = (pidFile: string) =>
  `trap "" TERM; sleep 300 & echo $! >> ${pidFile}; sleep 300 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`;

describe('stopping a task kills its process group', () => {
  it('on timeout: SIGTERM, grace, then SIGKILL of every process, even those ignoring SIGTERM', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    const request = await attemptOf(shell(stubborn(pidFile)), { timeoutMs: 500, killGraceMs: 300 });
    const started = performance.now();
    const resultPromise = executor.execute(request);
    const pids = await pidsIn(pidFile, 3);
    expect(await Promise.all(pids.map(isRunning))).toEqual([true, true, true]);

    const result = await resultPromise;
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'timeout', signal: 'SIGKILL' } });
    expect(await Promise.all(pids.map(isRunning))).toEqual([false, false, false]);
    // Timeout (500) + grace (300) + a margin for a loaded machine; not the children's 300 s.
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(10_000);
    console.info(
      `[measure] stubborn group killed ${Math.round(elapsed - 500)} ms after the timeout (grace 300 ms)`,
    );
  });

  it('on timeout of a cooperative task: ends as soon as the group exits, without waiting the grace', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    const request = await attemptOf(shell(`sleep 300 & echo $! >> ${pidFile}; echo $$ >> ${pidFile}; wait`), {
      timeoutMs: 300,
      killGraceMs: 5_000,
    });
    const started = performance.now();
    const resultPromise = executor.execute(request);
    const pids = await pidsIn(pidFile, 2);
    const result = await resultPromise;
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'timeout', signal: 'SIGTERM' } });
    expect(await Promise.all(pids.map(isRunning))).toEqual([false, false]);
    console.info(`[measure] cooperative group gone ${Math.round(elapsed - 300)} ms after the timeout`);
  });

  it('on cancellation via the AbortSignal: kind cancelled, every process gone', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    const controller = new AbortController();
    const request = await attemptOf(shell(stubborn(pidFile)), {
      signal: controller.signal,
      killGraceMs: 200,
    });
    const resultPromise = executor.execute(request);
    const pids = await pidsIn(pidFile, 3);
    controller.abort();
    const result = await resultPromise;
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'cancelled' } });
    // SIGKILL has been sent to the whole group; on a busy machine the kernel may take a moment
    // to reap the last of them.
    await expect
      .poll(() => Promise.all(pids.map(isRunning)), { timeout: 3_000 })
      .toEqual([false, false, false]);
  });

  it('does not start a task whose signal is already aborted', async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    controller.abort();
    const result = await executor.execute(
      await attemptOf(shell(`touch ${join(dir, 'ran')}`), { signal: controller.signal }),
    );
    expect(result).toMatchObject({ status: 'failed', failure: { kind: 'cancelled' } });
    await expect(readFile(join(dir, 'ran'))).rejects.toThrow(/ENOENT/);
  });

  it('kills background jobs a task leaves behind when it exits, and keeps its result', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    // The leftover holds stdout open: without reaping, the attempt would hang until the timeout.
    const request = await attemptOf(
      shell(`trap "" TERM; sleep 300 & echo $! >> ${pidFile}; echo '"done"' > "$DAGRUN_OUTPUT"`),
      { timeoutMs: 5_000, killGraceMs: 200 },
    );
    const started = performance.now();
    const result = await executor.execute(request);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ status: 'succeeded', output: 'done', exitCode: 0 });
    const [leftover] = await pidsIn(pidFile, 1);
    expect(await isRunning(leftover!)).toBe(false);
  });

  it('stops waiting for output held open by a process that left the group', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'pids');
    // setsid puts the sleeper in a new session: out of our reach, but holding our stdout pipe.
    const request = await attemptOf(shell(`setsid sleep 30 & echo $! >> ${pidFile}; echo visible`), {
      timeoutMs: 10_000,
    });
    const started = performance.now();
    const result = await executor.execute(request);
    const [escaped] = await pidsIn(pidFile, 1);
    process.kill(escaped!, 'SIGKILL');
    expect(result).toMatchObject({ status: 'succeeded', stdout: { head: 'visible\n' } });
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('does not mistake a task that finished before its deadline for a timeout', async () => {
    const result = await executor.execute(await attemptOf(shell('sleep 0.1'), { timeoutMs: 2_000 }));
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });
});
