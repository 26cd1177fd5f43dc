/**
 * Kills the process groups of a worker's tasks when the worker itself dies, even by SIGKILL.
 *
 * Tasks run in their own process groups (see process-group.ts), out of reach of anything that
 * signals the worker's group, and a SIGKILLed worker runs no cleanup: without help its tasks
 * would keep running, side effects and all, while the leader retries the attempt elsewhere.
 * So each worker process has one watchdog, started on its first task: a tiny `sh` in its own
 * session (see group-reaper-watchdog.ts) whose standard input is a pipe only the worker holds.
 * The worker writes `+<pgid>` when a group starts and `-<pgid>` once it is gone. When the worker
 * dies, by any means, the kernel closes the pipe; the watchdog reads end-of-input and kills every
 * group still listed (SIGTERM, a grace, SIGKILL). A worker that exits normally has listed nothing
 * and the watchdog exits quietly. One watchdog per process, not per task: per-task cost is one
 * small write on a pipe.
 *
 * The pipe does not leak into tasks: Node opens every descriptor close-on-exec and passes a child
 * only its stdio, so only the worker holds the write end and the end of input means its death.
 *
 * What it cannot cover, honestly:
 * - A worker killed between spawning a task and writing `+<pgid>`: the two happen in the same
 *   synchronous step, microseconds apart.
 * - Processes that left the task's group (setsid, job control), as for timeouts.
 * - Group ids are reused: once every member of a group is gone, the kernel may hand its number
 *   to a new process, which may lead a group of its own. `-<pgid>` is written as soon as the
 *   group is reaped, so the watchdog could signal an unrelated group only if the worker died in
 *   the instant between the two and the pid counter had wrapped around to that very number
 *   (through `kernel.pid_max` other pids) in that instant. While the watchdog waits out its grace
 *   it polls every 20 ms and drops a group as soon as it is gone. A group of zombies keeps its id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { watchdogScript } from './group-reaper-watchdog.js';
import { fallbackPath } from './task-env.js';

/** Told when a task's process group starts and when it is gone. */
export interface GroupTracker {
  /** Group `pgid` started: if this process dies before `untrack(pgid)`, the group is killed. */
  track(pgid: number): void;
  /** Group `pgid` is gone (every member exited or was killed). */
  untrack(pgid: number): void;
}

export interface GroupReaperOptions {
  /** Between the watchdog's SIGTERM and SIGKILL of a dead worker's groups. Default 500 ms. */
  readonly graceMs?: number;
  /** The shell that runs the watchdog. Default `/bin/sh`. */
  readonly shell?: string;
}

/** A watchdog that died is replaced, but not more often than this, so a broken one is not spawned per task. */
const respawnDelayMs = 1_000;

/** Tracks groups with a watchdog process; see the module comment. */
export class GroupReaper implements GroupTracker {
  private readonly graceMs: number;
  private readonly shell: string;
  /** Every group tracked now, so that a replacement watchdog can be told all of them. */
  private readonly groups = new Set<number>();
  private watchdog: { readonly process: ChildProcess; readonly input: Socket } | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Set while starts keep failing, so that the warning is given once, not every second. */
  private failing = false;

  constructor(options: GroupReaperOptions = {}) {
    this.graceMs = options.graceMs ?? 500;
    this.shell = options.shell ?? '/bin/sh';
  }

  track(pgid: number): void {
    // kill(-1) signals every process we may signal, kill(-0) our own group: never list those.
    if (!Number.isSafeInteger(pgid) || pgid < 2) return;
    this.groups.add(pgid);
    if (this.watchdog) this.send(`+${pgid}\n`);
    else this.start(); // tells the new watchdog every tracked group, this one included
  }

  untrack(pgid: number): void {
    if (this.groups.delete(pgid)) this.send(`-${pgid}\n`);
  }

  /** The watchdog's pid while one runs. */
  get watchdogPid(): number | undefined {
    return this.watchdog?.process.pid;
  }

  /**
   * Closes the pipe as this process's exit would, and resolves once the watchdog has exited. Groups
   * still tracked are killed by it. The next `track` starts a new watchdog.
   */
  async close(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const watchdog = this.watchdog;
    if (!watchdog) return;
    this.watchdog = undefined; // its exit is expected now
    watchdog.process.ref(); // until it has exited
    const exited = new Promise<void>((resolve) => {
      if (watchdog.process.exitCode !== null || watchdog.process.signalCode !== null) resolve();
      else watchdog.process.once('exit', () => resolve());
    });
    watchdog.input.end();
    await exited;
  }

  private send(lines: string): void {
    // A write to a watchdog that just died fails with EPIPE on the input's 'error'; `lost` handles it.
    this.watchdog?.input.write(lines);
  }

  private start(): void {
    const wait = this.lastStart + respawnDelayMs - performance.now();
    if (wait > 0) {
      // Deliberately detached: it only restarts the watchdog, and must not keep the process alive.
      this.restartTimer ??= setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.watchdog && this.groups.size > 0) this.start();
      }, wait).unref();
      return;
    }
    this.lastStart = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(this.shell, ['-c', watchdogScript, 'dagrun-group-reaper', String(this.graceMs)], {
        // Its own session: it outlives the worker and no signal meant for the worker's group reaches it.
        detached: true,
        // stderr is the worker's: the one line it logs when it kills groups lands in the worker's log.
        stdio: ['pipe', 'ignore', 'inherit'],
        // Nothing of the worker's environment (it holds secrets); PATH for `sleep` and `date`.
        env: { PATH: fallbackPath },
        // Holds no directory of the worker's busy.
        cwd: '/',
      });
    } catch (error) {
      this.startFailed((error as Error).message);
      return;
    }
    const input = child.stdin as Socket | null;
    if (child.pid === undefined || !input) {
      // Spawn failed (the 'error' event follows); tasks still run, unprotected until a later start.
      child.once('error', (error) => this.startFailed(error.message));
      return;
    }
    this.failing = false;
    const watchdog = { process: child, input };
    const lost = (reason: string): void => {
      if (this.watchdog !== watchdog) return; // already handled, or closed on purpose
      this.watchdog = undefined;
      warn(`the process group watchdog ${child.pid} ${reason}; starting another`);
      if (this.groups.size > 0) this.start();
    };
    child.once('exit', (code, signal) => lost(`exited (${signal ?? `code ${code}`})`));
    child.once('error', (error) => lost(`failed: ${error.message}`));
    input.on('error', (error) => lost(`stopped reading: ${error.message}`));
    // Neither the watchdog nor its pipe may keep the worker's event loop alive.
    child.unref();
    input.unref();
    this.watchdog = watchdog;
    this.send([...this.groups].map((pgid) => `+${pgid}\n`).join(''));
  }

  private startFailed(reason: string): void {
    if (!this.failing) warn(`could not start the process group watchdog: ${reason}; retrying on later tasks`);
    this.failing = true;
  }
}

function warn(message: string): void {
  process.emitWarning(message, { code: 'DAGRUN_GROUP_REAPER' });
}

/** The reaper of this process: every shell and Python task registers with it unless told otherwise. */
export const processGroupReaper = new GroupReaper();

/** Tracks nothing: for callers that manage their groups' lifetime themselves (and to measure the cost). */
export const noGroupTracking: GroupTracker = {
  track: () => undefined,
  untrack: () => undefined,
};
