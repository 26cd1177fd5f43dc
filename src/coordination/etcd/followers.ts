/**
 * The long-lived reads behind the adapter's observables: the leader of an election, the worker
 * registry, and the changes under a prefix. Each is a loop that reads, then watches from the
 * read's revision + 1 (so nothing falls between the two), and starts over after an error; it
 * ends when its signal aborts (the subscriber unsubscribed, or the adapter closed).
 */
import type { IEvent, IKeyValue } from 'etcd3';
import type { Logger } from '../../observability/logger.js';
import type { LeaderInfo, LeaderValue, RegistryChange, WatchEvent, WorkerRecord } from '../types.js';
import { backoff, pause } from './signals.js';
import { nextRevision, type Watches } from './watching.js';

/** The stored value of a leader's key: who campaigned, and what it proclaims. */
export function encodeLeader(id: string, value: LeaderValue): string {
  return JSON.stringify({ id, value } satisfies LeaderInfo);
}

/** Reads a leader's key; a foreign candidate (e.g. `etcdctl elect`) shows as its raw value. */
export function decodeLeader(raw: string): LeaderInfo {
  try {
    const parsed = JSON.parse(raw) as Partial<LeaderInfo> | null;
    if (parsed && typeof parsed.id === 'string' && typeof parsed.value === 'object' && parsed.value) {
      return { id: parsed.id, value: parsed.value };
    }
  } catch {
    // not ours: fall through
  }
  return { id: raw, value: {} };
}

/** Runs `step` until the signal aborts, starting it over (after a backoff) when it throws. */
async function keepGoing(
  what: string,
  log: Logger | undefined,
  signal: AbortSignal,
  step: () => Promise<void>,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await step();
      failures = 0;
    } catch (error) {
      if (signal.aborted) return;
      log?.warn(`etcd ${what} interrupted; starting over`, { error: String(error) });
      await pause(backoff(failures++), signal).catch(() => undefined);
    }
  }
}

/**
 * Emits the leader of the election under `directory` (the oldest key; undefined: none), then
 * every change: a proclaim (a put on the leader's key) or a new leader (its key deleted, the next
 * one in line is first). Consecutive duplicates are dropped.
 */
export async function followLeader(
  watches: Watches,
  directory: string,
  emit: (leader: LeaderInfo | undefined) => void,
  signal: AbortSignal,
  log: Logger | undefined,
): Promise<void> {
  let last: string | undefined | null = null;
  const show = (kv: IKeyValue | undefined) => {
    const seen = kv && `${kv.key.toString()}\n${kv.value.toString()}`;
    if (seen === last) return;
    last = seen;
    emit(kv && decodeLeader(kv.value.toString()));
  };
  await keepGoing(`leader observation of ${directory}`, log, signal, async () => {
    const first = await watches.ns.getAll().prefix(directory).sort('Create', 'Ascend').limit(1).exec();
    const leader = first.kvs[0];
    show(leader);
    const from = nextRevision(first.header);
    if (leader === undefined) {
      // No one leads: the first put under the directory is a candidate, and so the leader.
      await watches.until({ prefix: directory }, from, signal, (event) => event.type === 'Put');
      return;
    }
    await watches.until({ key: leader.key.toString() }, from, signal, (event) => {
      if (event.type === 'Delete') return true;
      show(event.kv);
      return false;
    });
  });
}

/**
 * Emits every registered worker as a put, then each change. After an interruption (e.g. the
 * watch's revision was compacted) it lists again and emits the difference, so a subscriber's view
 * converges without a gap.
 */
export async function followWorkers(
  watches: Watches,
  directory: string,
  emit: (change: RegistryChange) => void,
  signal: AbortSignal,
  log: Logger | undefined,
): Promise<void> {
  let known = new Set<string>();
  const idOf = (key: Buffer) => key.toString().slice(directory.length);
  await keepGoing('worker registry watch', log, signal, async () => {
    const listed = await watches.ns.getAll().prefix(directory).exec();
    const now = new Set(listed.kvs.map((kv) => idOf(kv.key)));
    for (const id of known) if (!now.has(id)) emit({ type: 'delete', workerId: id });
    for (const kv of listed.kvs)
      emit({ type: 'put', worker: JSON.parse(kv.value.toString()) as WorkerRecord });
    known = now;
    await watches.until({ prefix: directory }, nextRevision(listed.header), signal, (event) => {
      const id = idOf(event.kv.key);
      if (event.type === 'Put') {
        known.add(id);
        emit({ type: 'put', worker: JSON.parse(event.kv.value.toString()) as WorkerRecord });
      } else {
        known.delete(id);
        emit({ type: 'delete', workerId: id });
      }
      return false;
    });
  });
}

/** Emits the changes under `prefix` from revision `from` on; a broken watch is an error. */
export async function followPrefix(
  watches: Watches,
  prefix: string,
  from: string,
  emit: (event: WatchEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  await watches.until({ prefix }, from, signal, (event: IEvent) => {
    emit(
      event.type === 'Put'
        ? { type: 'put', key: event.kv.key.toString(), value: event.kv.value.toString() }
        : { type: 'delete', key: event.kv.key.toString() },
    );
    return false;
  });
}
