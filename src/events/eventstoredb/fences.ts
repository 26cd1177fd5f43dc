/**
 * Fencing terms on EventStoreDB, and why they are weaker than Postgres's.
 *
 * The terms of a key live in the stream `dagrun-fence-<key>`: taking a term appends one
 * `TermTaken` event with expected revision `any`, and the term is that event's revision + 1. The
 * server serializes appends to a stream, so concurrent callers get distinct revisions, and
 * revisions only grow: terms are strictly increasing per key, across processes and restarts.
 *
 * A fenced append reads the fence stream's last revision and refuses the append (FencedError,
 * nothing written) unless `revision + 1` is the fence's term; then it appends. EventStoreDB has no
 * transaction spanning two streams, so this is check-then-act: a `nextTerm` that commits between
 * the check and the append does not stop that one append, which commits after `nextTerm`
 * returned. Postgres closes this window (the append holds the fence row until it commits). What
 * still guards invariant 3 here:
 * - the window is one round trip, and the check is repeated when it has grown stale
 *   (`fenceCheckMaxAgeMs`) — but a process paused after its last check, with the append already
 *   on the wire, can still land it late;
 * - every decision is appended with the expected revision of the run stream the leader folded:
 *   a late decision either lands before the new leader reads that run (and is folded by it, as if
 *   made just before the takeover) or makes one of the two appends fail with a ConcurrencyError,
 *   so no decision is taken twice; attempt outcomes are fenced by expected revision 0 the same way;
 * - each decision carries its term in its metadata, and a leader that folds a higher term steps
 *   down (scheduler/leader.ts).
 * The contract test of the closed window is reported as skipped for this adapter, with this reason.
 */
import { randomUUID } from 'node:crypto';
import { FENCE_STREAM_PREFIX } from './mapping.js';

/** The event type of a taken term. */
export const TERM_TAKEN = 'TermTaken';

/** The stream holding the terms of `key`. */
export function fenceStream(key: string): string {
  return `${FENCE_STREAM_PREFIX}${key}`;
}

/** The term a `TermTaken` event at `revision` stands for (the first one is term 1). */
export function termOfRevision(revision: bigint | number): number {
  return Number(revision) + 1;
}

/** The event that takes a term of `key` (its id is reused if the append has to be retried). */
export function termTakenEvent(key: string, now: Date) {
  const id = randomUUID();
  return {
    id,
    contentType: 'application/json' as const,
    type: TERM_TAKEN,
    data: { key, takenAt: now.toISOString() },
    metadata: { correlationId: id, causationId: id, actor: 'dagrun:fence' },
  };
}

/** Why the contract's closed-window test does not apply to this adapter. */
export const FENCE_WINDOW_LIMITATION =
  'EventStoreDB has no multi-stream transaction: a fenced append checks the fence stream, then ' +
  'appends (check-then-act), so one already past its check can commit after nextTerm returned ' +
  '(src/events/eventstoredb/fences.ts)';
