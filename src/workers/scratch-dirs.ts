/**
 * Scratch directories of attempts that run a process (the `$DAGRUN_OUTPUT` file lives there).
 * Each is named after the worker process that made it (`dagrun-attempt-<pid>-<random>`) and
 * removed when its attempt ends. A worker killed with SIGKILL cannot remove its own, so a worker
 * starting up removes those of processes that are gone. A directory whose pid belongs to a live
 * process is left alone, whoever that process is now (pids are reused; leaving one behind is
 * harmless, removing a live worker's is not).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'dagrun-attempt-';

/** A new scratch directory for an attempt of this process. */
export function makeScratchDir(root = tmpdir()): Promise<string> {
  return mkdtemp(join(root, `${PREFIX}${process.pid}-`));
}

let swept: Promise<number> | undefined;

/** `sweepOrphanScratchDirs` of the default root, once per process however many workers start. */
export function sweepOrphanScratchDirsOnce(): Promise<number> {
  swept ??= sweepOrphanScratchDirs().catch(() => 0);
  return swept;
}

/** Removes the scratch directories of worker processes that no longer run; returns how many. */
export async function sweepOrphanScratchDirs(root = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = pidOf(name);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await rm(join(root, name), { recursive: true, force: true }).catch(() => {});
    removed++;
  }
  return removed;
}

/** The pid in a scratch directory's name; undefined for other names (older ones included). */
function pidOf(name: string): number | undefined {
  const match = /^dagrun-attempt-(\d+)-[^/]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
