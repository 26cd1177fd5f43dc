/**
 * A fair queue of keys under one directory, ordered by create revision: the algorithm of etcd's
 * Go client (`concurrency.Election`, `concurrency.Mutex`). Each contender puts a key of its own
 * under its own lease; the oldest key leads (or holds the lock). A contender waits for the key
 * just ahead of it to be deleted — not for the leader's — so a release wakes exactly one waiter,
 * in arrival order. A contender that dies takes its key with its lease, and the line closes up.
 *
 * Elections (`<prefix>election/<name>/<lease>`) and locks (`<prefix>locks/<name>/<lease>`) both
 * use it; the key layout is the Go client's and etcd3's, so `etcdctl elect` and etcd3's
 * `Election.observe()` see the same leader.
 */
import type { IResponseHeader, Namespace } from 'etcd3';
import type { KeptLease } from './kept-lease.js';
import { nextRevision, type Watches } from './watching.js';

export interface QueueEntry {
  /** The contender's key, relative to the namespace. */
  readonly key: string;
  /** Its create revision: its place in line. */
  readonly createRevision: string;
}

/** Joins the line under `directory` (which ends in `/`) with `value`, under `lease`. */
export async function enqueue(
  ns: Namespace,
  directory: string,
  lease: KeptLease,
  value: string,
  onWrite: (header: IResponseHeader) => void,
): Promise<QueueEntry> {
  // The lease is new, so the key is too: its put is its creation.
  const key = directory + lease.hexId;
  const put = await ns.put(key).value(value).lease(lease.id).exec();
  onWrite(put.header);
  return { key, createRevision: put.header.revision };
}

/**
 * Waits until `entry` is the oldest key under `directory`. Resolves with the header of the read
 * that saw it first (watch its key from the next revision to learn of its deletion). Throws
 * `signal.reason` on abort, and `QueueKeyGoneError` when the entry's own key went away meanwhile.
 */
export async function waitForTurn(
  watches: Watches,
  directory: string,
  entry: QueueEntry,
  signal: AbortSignal,
): Promise<IResponseHeader> {
  const { ns } = watches;
  const before = (BigInt(entry.createRevision) - 1n).toString();
  for (;;) {
    signal.throwIfAborted();
    const [ahead] = await ns
      .getAll()
      .prefix(directory)
      .maxCreateRevision(before)
      .sort('Create', 'Descend')
      .limit(1)
      .keys();
    if (ahead === undefined) break;
    await waitForDelete(watches, ahead, signal);
  }
  signal.throwIfAborted();
  // Still in line? A lease that expired while we waited took the key with it.
  const own = await ns.get(entry.key).exec();
  const kv = own.kvs[0];
  if (kv === undefined || kv.create_revision !== entry.createRevision) throw new QueueKeyGoneError(entry.key);
  return own.header;
}

/** Resolves once `key` is deleted (at once if it does not exist); throws `signal.reason` on abort. */
export async function waitForDelete(watches: Watches, key: string, signal: AbortSignal): Promise<void> {
  const current = await watches.ns.get(key).exec();
  if (current.kvs.length === 0) return;
  await watches.until({ key }, nextRevision(current.header), signal, (event) => event.type === 'Delete');
}

/** A contender's own key went away while it waited (its lease expired, or it was deleted). */
export class QueueKeyGoneError extends Error {
  constructor(readonly key: string) {
    super(`etcd key ${key} went away while waiting in line`);
    this.name = 'QueueKeyGoneError';
  }
}
