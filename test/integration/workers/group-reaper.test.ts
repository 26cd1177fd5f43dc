/**
 * A worker that dies — SIGKILL included — takes its tasks' process groups with it: the watchdog
 * it started kills every group still listed. Real processes throughout: the worker is a Node
 * process running the shell executor (test/fixtures/group-reaper-worker.ts), killed by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GroupReaper, noGroupTracking } from '../../../src/workers/executors/group-reaper.js';
import { ShellExecutor } from '../../../src/workers/executors/shell.js';
import { attemptOf, isRunning, tempDir, workerEnv } from './attempt-fixture.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/group-reaper-worker.ts', import.meta.url));
/** Generous: a loaded CI machine may be slow; the reaper's own promptness is not what is tested. */
const gone = { timeout: 20_000, interval: 20 };

interface Report {
  readonly watchdogPid: number;
  readonly quickPgid?: number;
  readonly pgid?: number;
  readonly pids?: number[];
  readonly untracked?: number;
  readonly tracked?: number;
}

interface ReaperLine {
  readonly message: string;
  readonly component: string;
  readonly workerPid: number;
  readonly pgids: number[];
}

/** The fixture running as its own process: its first stdout line, its stderr so far, its end. */
interface Worker {
  readonly process: ChildProcess;
  readonly report: Report;
  /** Lines the watchdog logged on the stderr it shares with the worker. */
  reaperLines(): ReaperLine[];
  readonly exited: Promise<number | null>;
  /** Resolves when every holder of the worker's stdio — the watchdog included — has closed it. */
  readonly closed: Promise<void>;
}

async function startWorker(mode: 'orphans' | 'exit' | 'untracked'): Promise<Worker> {
  const dir = await tempDir('dagrun-reaper-');
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const report = await new Promise<Report>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(stdout.slice(0, newline)) as Report);
    });
    child.once('exit', (code) =>
      reject(new Error(`the worker exited (${code}) before reporting: ${stderr}`)),
    );
  });
  const reaperLines = (): ReaperLine[] =>
    stderr
      .split('\n')
      .filter((line) => line.includes('"component":"group-reaper"'))
      .map((line) => JSON.parse(line) as ReaperLine);
  return { process: child, report, reaperLines, exited, closed };
}

/** Whether `pid` ignores SIGTERM yet (the watchdog's `trap` has run); from /proc/<pid>/status. */
async function ignoresTerm(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n; // bit n-1 for signal n=15
}

const allRunning = (pids: readonly number[]) => Promise.all(pids.map(isRunning));

describe('the process groups of a worker die with it', () => {
  it('SIGKILL of the worker: SIGTERM, then SIGKILL, reach every process of its running task', async () => {
    const worker = await startWorker('orphans');
    const { pids, pgid, quickPgid, watchdogPid } = worker.report;
    expect(pids).toHaveLength(3);
    expect(pgid).toBe(pids![2]); // the leader's pid, which setsid made the group id
    expect(await allRunning(pids!)).toEqual([true, true, true]);

    // The watchdog ignores the signals a stop sends to everything; only the end of its input counts.
    await expect.poll(() => ignoresTerm(watchdogPid), gone).toBe(true);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(watchdogPid, signal);

    worker.process.kill('SIGKILL');
    expect(await worker.exited).toBeNull();
    // isRunning counts a zombie as gone: the orphans' new parent (PID 1 or a subreaper) may not reap.
    await expect.poll(() => allRunning(pids!), gone).toEqual([false, false, false]);
    await worker.closed; // the watchdog has exited too
    expect(await isRunning(watchdogPid)).toBe(false);

    // Only the running task's group was listed: the quick one was untracked when it ended.
    const lines = worker.reaperLines();
    expect(lines.map((line) => line.pgids)).toEqual([[pgid], [pgid]]); // SIGTERM ignored, so SIGKILL
    expect(lines[0]).toMatchObject({
      workerPid: worker.process.pid,
      message: expect.stringMatching(/SIGTERM/),
    });
    expect(lines[1]).toMatchObject({ message: expect.stringMatching(/SIGKILL/) });
    expect(quickPgid).not.toBe(pgid);
  });

  it('normal exit of the worker: its event loop is not held, and no watchdog is left behind', async () => {
    const worker = await startWorker('exit');
    expect(worker.report.watchdogPid).toBeGreaterThan(1);
    expect(await worker.exited).toBe(0);
    await worker.closed;
    await expect.poll(() => isRunning(worker.report.watchdogPid), gone).toBe(false);
    expect(worker.reaperLines()).toEqual([]);
  });

  it('spares a group that was untracked, and kills one that was not', async () => {
    const worker = await startWorker('untracked');
    const { tracked, untracked, watchdogPid } = worker.report;
    try {
      await expect.poll(() => ignoresTerm(watchdogPid), gone).toBe(true);
      worker.process.kill('SIGKILL');
      await expect.poll(() => isRunning(tracked!), gone).toBe(false);
      await worker.closed;
      expect(worker.reaperLines()[0]?.pgids).toEqual([tracked]);
      expect(await isRunning(untracked!)).toBe(true);
    } finally {
      process.kill(untracked!, 'SIGKILL');
    }
  });
});

describe('GroupReaper', () => {
  it('replaces a watchdog that died and tells it every tracked group', async () => {
    const reaper = new GroupReaper({ graceMs: 200 });
    const sleeper = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'DAGRUN_GROUP_REAPER') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      reaper.track(sleeper.pid!);
      const first = reaper.watchdogPid!;
      await expect.poll(() => ignoresTerm(first), gone).toBe(true);
      process.kill(first, 'SIGKILL');
      // Replaced without waiting for another track: a group is still listed.
      await expect.poll(() => reaper.watchdogPid ?? first, gone).not.toBe(first);
      expect(warnings).toEqual([expect.stringMatching(/exited \(SIGKILL\); starting another/)]);
      // Closing the pipe is what the worker's death does: the replacement kills the group.
      await reaper.close();
      await expect.poll(() => isRunning(sleeper.pid!), gone).toBe(false);
    } finally {
      process.off('warning', onWarning);
      sleeper.kill('SIGKILL');
    }
  });

  it('never lists a group id below 2 (kill -1 would reach every process) and starts no watchdog for one', () => {
    const reaper = new GroupReaper();
    for (const pgid of [0, 1, -1, -42, 1.5, Number.NaN]) reaper.track(pgid);
    expect(reaper.watchdogPid).toBeUndefined();
  });

  it('measures the cost per task of tracking groups (report only)', async () => {
    const tracked = new ShellExecutor({ inheritedEnv: workerEnv });
    const untracked = new ShellExecutor({ inheritedEnv: workerEnv, reaper: noGroupTracking });
    const elapsed = { tracked: 0, untracked: 0 };
    const request = await attemptOf({ type: 'shell', command: 'true' });
    await tracked.execute(request); // starts the process's watchdog: a one-off cost, not per task
    // Small, to keep the suite fast; for a real figure run more (500 tasks: no difference beyond noise).
    const rounds = 2;
    const perRound = 25;
    for (let round = 0; round < rounds; round++) {
      for (const [name, executor] of [
        ['tracked', tracked],
        ['untracked', untracked],
      ] as const) {
        const started = performance.now();
        for (let i = 0; i < perRound; i++) {
          const result = await executor.execute(request);
          expect(result.status).toBe('succeeded');
        }
        elapsed[name] += performance.now() - started;
      }
    }
    const tasks = rounds * perRound;
    console.info(
      `[measure] ${tasks} sequential \`true\` shell tasks: ${(elapsed.tracked / tasks).toFixed(2)} ms/task ` +
        `with the group reaper, ${(elapsed.untracked / tasks).toFixed(2)} ms/task without`,
    );
  });
});
