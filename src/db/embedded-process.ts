/**
 * What we need to know about other processes to clean up after a dagrun that died without
 * stopping its Postgres: is a pid alive, is it *our* postmaster, and how to stop it. Linux
 * answers from /proc; macOS from `ps`. Every check leans towards "not ours": killing a process
 * that is not our postmaster is far worse than refusing to start.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const hasProc = process.platform === 'linux';

/** The fields of `postmaster.pid` we use (see PostgreSQL's `pidfile.h`). */
export interface PostmasterPidFile {
  readonly pid: number;
  readonly dataDir: string;
  readonly port: number | undefined;
  /** `starting`, `stopping`, `ready`, `standby`, or undefined while Postgres is still writing it. */
  readonly status: string | undefined;
}

/** Parses `<pgdata>/postmaster.pid`; undefined if it does not exist or is not one yet. */
export async function readPostmasterPid(pgdata: string): Promise<PostmasterPidFile | undefined> {
  let text: string;
  try {
    text = await readFile(`${pgdata}/postmaster.pid`, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const port = Number(lines[3]);
  return {
    pid,
    dataDir: lines[1] ?? '',
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    status: lines[7]?.trim() || undefined,
  };
}

/** Alive means signalable and not a zombie (an exited child nobody has reaped yet). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user — alive.
    return errorCode(error) === 'EPERM';
  }
  if (!hasProc) return true;
  const stat = await readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

let bootId: Promise<string | undefined> | undefined;

/**
 * Boot id + start time of a process: unlike a pid, never reused. Undefined where /proc is
 * missing, and then callers fall back to "the pid is alive".
 */
export async function processIdentity(pid: number): Promise<string | undefined> {
  if (!hasProc) return undefined;
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
  const [boot, stat] = await Promise.all([bootId, readStat(pid)]);
  return boot && stat ? `${boot}:${stat.startTime}` : undefined;
}

export type PostmasterOwnership =
  /** A postgres process whose data directory is `pgdata`. */
  | 'ours'
  /** Gone, or some other program (the pid was reused). */
  | 'not-ours'
  /** A postgres process whose data directory we cannot see: do not touch it. */
  | 'unknown';

/**
 * Is `pid` a postgres server running on `pgdata`? On Linux the postmaster's working directory is
 * its data directory (it chdirs there at start), which holds however it was launched; the
 * command line's `-D` is the fallback when /proc/<pid>/cwd is not readable (another user).
 */
export async function inspectPostmaster(pid: number, pgdata: string): Promise<PostmasterOwnership> {
  if (!(await isRunning(pid))) return 'not-ours';
  const ourDir = await realpath(pgdata).catch(() => pgdata);
  let argv: string[];
  if (hasProc) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
    if (cmdline === undefined) return (await isRunning(pid)) ? 'unknown' : 'not-ours';
    argv = cmdline.split('\0').filter(Boolean);
    const stat = await readStat(pid);
    if (stat?.comm !== 'postgres' && basename(argv[0] ?? '') !== 'postgres') return 'not-ours';
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined) return cwd === ourDir ? 'ours' : 'not-ours';
  } else {
    const out = await execFileAsync('ps', ['-p', String(pid), '-o', 'command=']).catch(() => undefined);
    if (!out) return 'not-ours';
    argv = out.stdout.trim().split(/\s+/);
    if (!argv.some((arg) => basename(arg) === 'postgres')) return 'not-ours';
  }
  const d = argv.indexOf('-D');
  const dataArg = d >= 0 ? argv[d + 1] : undefined;
  if (dataArg !== undefined && (dataArg === pgdata || dataArg === ourDir)) return 'ours';
  return 'unknown';
}

/**
 * Postgres processes whose working directory is `pgdata`: the postmaster and every child it
 * forked. Linux only (empty elsewhere); used to make sure nothing is left behind.
 */
export async function postgresProcessesIn(pgdata: string): Promise<number[]> {
  if (!hasProc) return [];
  const ourDir = await realpath(pgdata).catch(() => pgdata);
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
      if (cwd !== ourDir) return;
      const stat = await readStat(pid);
      if (stat?.comm === 'postgres' && stat.state !== 'Z') found.push(pid);
    }),
  );
  return found.sort((a, b) => a - b);
}

/** Polls until `pid` is gone; true if it went within `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isRunning(pid))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

export type ShutdownMode = 'fast' | 'immediate' | 'killed';

export interface StopPostmasterOptions {
  /** How long a fast shutdown may take (it writes a checkpoint). */
  readonly fastTimeoutMs?: number;
  /** How long an immediate shutdown may take. */
  readonly immediateTimeoutMs?: number;
}

/**
 * Stops a postmaster that the caller has verified is ours. Postgres's signals differ from the
 * usual convention: SIGTERM is a *smart* shutdown that waits for every client to disconnect
 * (forever, if one never does), SIGINT is the fast shutdown (roll back sessions, checkpoint,
 * exit), SIGQUIT is the immediate one (exit now, crash recovery at next start; no committed data
 * is lost since fsync is on). SIGKILL is the last resort and takes the children with it, since a
 * child left attached to the old shared memory would stop the next postmaster from starting.
 */
export async function stopPostmaster(
  pid: number,
  options: StopPostmasterOptions = {},
): Promise<ShutdownMode> {
  const fastTimeoutMs = options.fastTimeoutMs ?? 30_000;
  const immediateTimeoutMs = options.immediateTimeoutMs ?? 10_000;
  // A signal that finds no process means the postmaster finished the previous step just now.
  if (!signal(pid, 'SIGINT') || (await waitForExit(pid, fastTimeoutMs))) return 'fast';
  if (!signal(pid, 'SIGQUIT') || (await waitForExit(pid, immediateTimeoutMs))) return 'immediate';
  const children = await childrenOf(pid);
  signal(pid, 'SIGKILL');
  for (const child of children) signal(child, 'SIGKILL');
  await waitForExit(pid, 5_000);
  return 'killed';
}

/** Sends a signal; false if the process is already gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    throw error;
  }
}

async function childrenOf(pid: number): Promise<number[]> {
  if (!hasProc) return [];
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = await Promise.all(pids.map(async (p) => ({ pid: p, stat: await readStat(p) })));
  return stats.filter((s) => s.stat?.ppid === pid && s.stat.comm === 'postgres').map((s) => s.pid);
}

interface ProcStat {
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly startTime: string;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  return {
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: Number(rest[1]),
    startTime: rest[19] ?? '',
  };
}

/** The `code` of a Node system error (`ENOENT`, `ESRCH`…), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
