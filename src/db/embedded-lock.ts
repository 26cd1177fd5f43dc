/**
 * One dagrun per data dir. The lock is a file holding the owner's pid, its process identity
 * (boot id + start time, so a recycled pid is not mistaken for the owner) and a random nonce.
 * It is written under a private name and hard-linked into place: link() fails if the lock
 * exists and never exposes a half-written file.
 *
 * A lock whose owner is dead is broken by renaming it aside and checking that what was renamed
 * is what was judged stale; if another starter re-took the lock in between, it is put back. Two
 * starters racing over one stale lock therefore end with one owner and one clear error. Postgres's
 * own postmaster.pid interlock remains the last line: two servers can never share a data dir.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { EmbeddedPostgresError } from './embedded-errors.js';
import { errorCode, isRunning, processIdentity } from './embedded-process.js';

interface LockContent {
  readonly pid: number;
  readonly identity?: string;
  readonly nonce: string;
}

/** An acquired data dir lock. */
export interface DataDirLock {
  readonly path: string;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
  /** The same, synchronously, for `process.on('exit')`. */
  releaseSync(): void;
}

export interface AcquireLockOptions {
  /** What the error message names as the thing in use (the dagrun data dir). */
  readonly dataDir: string;
  /** Told when a stale lock of a dead process is broken. */
  readonly onStale?: (holder: { pid: number }) => void;
}

/**
 * Takes the lock at `lockPath`.
 *
 * @throws EmbeddedPostgresError `embedded_postgres_data_dir_in_use` when a live process holds it.
 */
export async function acquireDataDirLock(
  lockPath: string,
  options: AcquireLockOptions,
): Promise<DataDirLock> {
  const nonce = randomBytes(8).toString('hex');
  const identity = await processIdentity(process.pid);
  const content: LockContent = { pid: process.pid, ...(identity ? { identity } : {}), nonce };
  const text = JSON.stringify(content);
  const privatePath = `${lockPath}.${process.pid}.${nonce}`;

  await writeFile(privatePath, text, { mode: 0o644 });
  try {
    // Each round either takes the lock, fails on a live holder, or removes one stale lock; a few
    // rounds cover any interleaving of a handful of starters.
    for (let round = 0; round < 5; round++) {
      try {
        await link(privatePath, lockPath);
        return ownedLock(lockPath, nonce);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const seen = await readFile(lockPath, 'utf8').catch((error) => {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      });
      if (seen === undefined) continue;
      const holder = parse(seen);
      if (holder && (await holds(holder))) {
        throw new EmbeddedPostgresError(
          'embedded_postgres_data_dir_in_use',
          `another dagrun is using ${options.dataDir} (pid ${holder.pid}); stop it first, or use another ` +
            `data dir. If pid ${holder.pid} is not dagrun, delete ${lockPath}.`,
          { dataDir: options.dataDir, pid: holder.pid, lockPath },
        );
      }
      await breakStaleLock(lockPath, seen, `${lockPath}.stale.${process.pid}.${nonce}`);
      if (holder) options.onStale?.({ pid: holder.pid });
    }
    throw new Error(`could not take ${lockPath}: it kept changing hands`);
  } finally {
    await unlink(privatePath).catch(() => {});
  }
}

async function holds(holder: LockContent): Promise<boolean> {
  if (!(await isRunning(holder.pid))) return false;
  // Without an identity (no /proc) a live pid has to be taken at its word.
  if (holder.identity === undefined) return true;
  const now = await processIdentity(holder.pid);
  return now === undefined || now === holder.identity;
}

async function breakStaleLock(lockPath: string, seen: string, asidePath: string): Promise<void> {
  try {
    await rename(lockPath, asidePath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // someone else broke it first
    throw error;
  }
  const moved = await readFile(asidePath, 'utf8');
  if (moved !== seen) {
    // We took a fresh lock that another starter created after our read: give it back.
    await link(asidePath, lockPath).catch(() => {});
  }
  await unlink(asidePath).catch(() => {});
}

function parse(text: string): LockContent | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, identity, nonce } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof nonce !== 'string') return undefined;
    return { pid, nonce, ...(typeof identity === 'string' ? { identity } : {}) };
  } catch {
    // Not written by us (link() never exposes a partial file): nobody live holds it.
    return undefined;
  }
}

function ownedLock(path: string, nonce: string): DataDirLock {
  const isOurs = (text: string | undefined) => text !== undefined && parse(text)?.nonce === nonce;
  return {
    path,
    async release() {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (isOurs(text)) await unlink(path).catch(() => {});
    },
    releaseSync() {
      let text: string | undefined;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return;
      }
      if (!isOurs(text)) return;
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    },
  };
}
