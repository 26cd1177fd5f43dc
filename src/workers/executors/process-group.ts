/**
 * Runs one process in its own process group and makes sure the whole group is gone before
 * returning. A task is rarely one process: `sh -c` forks, scripts start helpers, helpers fork
 * again. Killing only the pid we spawned would orphan the rest, so the child is spawned
 * `detached` (setsid: it leads a new session and group whose id is its pid) and every signal
 * goes to `-pid`, the group. Output goes through pipes read with a reusable buffer (see
 * capture-pipe.ts) into bounded captures.
 *
 * Stopping (timeout or cancel): SIGTERM to the group, then, every 20 ms, check whether any
 * member is left; if one still is after `killGraceMs`, SIGKILL the group. The same reaping runs
 * when the leader exits on its own, so a task that exits and leaves a background job behind
 * does not leave it running (or holding our pipes open). Processes that leave the group
 * themselves (setsid, `set -m` job control) cannot be followed this way; once the group is gone
 * we read what they still write for at most `drainMs`, then close our end of the pipes.
 *
 * The group is tracked by the process's `GroupReaper` from its spawn until it has been reaped,
 * so that it is killed even if the worker dies (by SIGKILL too) while it runs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import {
  BoundedCapture,
  type CapturedText,
  type CaptureLimits,
  type OutputSink,
} from '../output/bounded-capture.js';
import { openCapturePipes } from '../output/capture-pipe.js';
import { type GroupTracker, processGroupReaper } from './group-reaper.js';

/** What to run. */
export interface ProcessSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The complete environment; nothing of the worker's is added. */
  readonly env: Readonly<Record<string, string>>;
}

/** When and how to stop it, and where its output goes. */
export interface ProcessControl {
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly signal: AbortSignal;
  readonly capture: CaptureLimits;
  readonly onChunk?: OutputSink | undefined;
  /** A directory where the output pipes can be created for a moment, and a unique name prefix. */
  readonly pipeDir: string;
  readonly pipePrefix: string;
  /** Told when the group starts and once it is gone. Default: this process's `processGroupReaper`. */
  readonly reaper?: GroupTracker | undefined;
}

/** How the process ended. `stopped` is set when we stopped it, whatever the exit looked like. */
export interface ProcessOutcome {
  readonly stopped?: 'timeout' | 'cancelled';
  readonly exitCode?: number;
  readonly signal?: string;
  /** Set when the process could not be started (e.g. interpreter or cwd missing). */
  readonly spawnError?: string;
  readonly stdout: CapturedText;
  readonly stderr: CapturedText;
}

const pollMs = 20;
/** execa passes any descriptor number through to spawn; its types only list the ones up to 9. */
type DescriptorOption = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/**
 * How long output may still arrive once the group is gone. Only a process that left the group
 * (setsid) can still hold the pipe then; we stop reading rather than wait for it.
 */
const drainMs = 1_000;

/** Runs `spec` to completion or until stopped; resolves once the whole group has exited. */
export async function runInProcessGroup(spec: ProcessSpec, control: ProcessControl): Promise<ProcessOutcome> {
  const stdout = new BoundedCapture(control.capture);
  const stderr = new BoundedCapture(control.capture);
  const captures = () => ({ stdout: stdout.snapshot(), stderr: stderr.snapshot() });
  if (control.signal.aborted) return { stopped: 'cancelled', ...captures() };

  const [outPipe, errPipe] = await openCapturePipes(control.pipeDir, control.pipePrefix, [
    (chunk) => {
      stdout.write(chunk);
      control.onChunk?.('stdout', chunk);
    },
    (chunk) => {
      stderr.write(chunk);
      control.onChunk?.('stderr', chunk);
    },
  ]);
  const pipes = [outPipe!, errPipe!];
  const reaper = control.reaper ?? processGroupReaper;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let reap: (() => Promise<void>) | undefined;
  try {
    // The abort may have come while the pipes were being made.
    if (control.signal.aborted) return { stopped: 'cancelled', ...captures() };
    const subprocess = execa(spec.file, [...spec.args], {
      cwd: spec.cwd,
      env: { ...spec.env },
      extendEnv: false,
      detached: true,
      stdin: 'ignore',
      stdout: outPipe!.writeFd as DescriptorOption,
      stderr: errPipe!.writeFd as DescriptorOption,
      reject: false,
      // execa's cleanup and kill helpers signal the leader only; the group is handled here.
      cleanup: false,
    });
    const pid = subprocess.pid;
    // In the same synchronous step as the spawn: from here on, the worker's death kills the group.
    if (pid !== undefined) reaper.track(pid);
    let stopped: 'timeout' | 'cancelled' | undefined;
    let leaderExited = false;
    let reaping: Promise<void> | undefined;
    reap = (): Promise<void> => {
      if (pid === undefined) return Promise.resolve();
      // Untracked as soon as it is gone, not later: its id may then be reused (see group-reaper.ts).
      reaping ??= reapGroup(pid, control.killGraceMs).then(() => reaper.untrack(pid));
      return reaping;
    };
    const stop = (reason: 'timeout' | 'cancelled'): void => {
      // Once the leader has exited its result stands; leftovers are reaped when it settles.
      if (stopped !== undefined || leaderExited) return;
      stopped = reason;
      void reap?.(); // awaited below, after the subprocess settles
    };
    timer = setTimeout(() => stop('timeout'), control.timeoutMs);
    onAbort = (): void => stop('cancelled');
    control.signal.addEventListener('abort', onAbort, { once: true });
    subprocess.once('exit', () => {
      leaderExited = true;
    });
    // The child holds its own copies now; ours would keep the pipes from ever reaching EOF.
    await Promise.all(pipes.map((pipe) => pipe.closeWriteEnd()));

    const result = await subprocess;
    // Whether we stopped it or it exited on its own, nothing of the group may outlive the attempt.
    await reap();
    await Promise.all(pipes.map((pipe) => pipe.drain(drainMs)));
    // No pid: spawn itself failed (missing program or cwd); execa keeps the reason in `cause`.
    const spawnError =
      pid === undefined
        ? String((result.cause as Error | undefined)?.message ?? result.shortMessage)
        : undefined;
    return {
      ...(stopped !== undefined && { stopped }),
      ...(result.exitCode !== undefined && { exitCode: result.exitCode }),
      ...(result.signal !== undefined && { signal: result.signal }),
      ...(spawnError !== undefined && { spawnError }),
      ...captures(),
    };
  } finally {
    clearTimeout(timer);
    if (onAbort) control.signal.removeEventListener('abort', onAbort);
    // Done already unless something above threw: then the group is killed (and untracked) here.
    await reap?.();
    // Idempotent; releases the pipes if anything above threw.
    await Promise.all(
      pipes.map(async (pipe) => {
        await pipe.closeWriteEnd();
        await pipe.drain(0);
      }),
    );
  }
}

/**
 * SIGTERM to the group, wait up to `graceMs` for its last live member to exit, then SIGKILL.
 * Returns at once when the group is already gone.
 */
export async function reapGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = performance.now() + graceMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(pollMs, left));
    if (!(await groupHasLiveMember(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Signals every process of group `pgid`; false when the group has no member left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: no member left. EPERM: the members changed credentials (setuid); nothing more
    // we can do to them.
    return false;
  }
}

/**
 * Whether a member of the group is still running. A zombie (exited, not yet reaped) still
 * answers kill(-pgid, 0), and orphans stay zombies for good where PID 1 does not reap (as in
 * many containers), so on Linux /proc is read to skip them; elsewhere kill(0) decides and the
 * wait may last the whole grace period.
 */
async function groupHasLiveMember(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so split after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
