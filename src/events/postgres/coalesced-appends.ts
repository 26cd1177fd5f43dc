/**
 * Group commit of the appends made in one process (the in-process engine's workers and leader):
 * see the class comment. Postgres-specific — it calls `dagrun_append` directly on the pool.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { ConcurrencyError } from '../../errors.js';
import { encodePosition } from '../position.js';
import { validateEvents } from '../schemas/index.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  Fence,
  NewEvent,
  RecordedEvent,
  SubscribeOptions,
} from '../types.js';
import { checkFence, fencedError } from './append.js';
import { CommitNotifier } from './notifier.js';
import { EVENTS_CHANNEL } from './subscription.js';

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
  readonly fence: Fence | undefined;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface AppendRow {
  readonly ord: string;
  readonly outcome: 'appended' | 'duplicate' | 'conflict' | 'id_elsewhere' | 'id_mismatch' | 'fenced';
  readonly revision: string | null;
  readonly transaction_id: string | null;
  readonly global_seq: string | null;
}

/** Most appends one transaction carries. */
const MAX_BATCH = 256;
/** How long a NOTIFY waits for more commits to announce with it (see `announce`). */
const NOTIFY_DELAY_MS = 3;
/** Transactions in flight at once: one commits while the next one fills. */
const MAX_IN_FLIGHT = 2;

/**
 * Group commit for the appends made in this process. An append that arrives while
 * `MAX_IN_FLIGHT` transactions are committing waits for the next one, together with every other
 * append that arrived meanwhile; alone, it goes at once. Each append keeps its own expected
 * revision and its own outcome: the batch is one statement calling `dagrun_append` once per
 * append (the same function `EventStore.append` calls), so a claim that loses its race
 * (`no_stream`) or an outcome that is fenced off (revision 0) gets its ConcurrencyError while the
 * others commit. Durability is unchanged: nothing is reported before its transaction commits,
 * and the commit is fsync'd like any other.
 *
 * Locks: a batch touches its streams in name order (a stable sort keeps two appends to one
 * stream in the order they were made), so two batches in flight cannot deadlock on each other's
 * stream rows. A batch that fails as a whole (a replayed event id, a lost connection) is retried
 * append by append through the wrapped store, with the same event ids: an append that did
 * commit is answered as a duplicate, and every error is the one the store's contract names.
 *
 * `onCommitted` gets every committed single-event append as a RecordedEvent, so the leader can
 * fold a worker's claim or outcome without waiting for NOTIFY and a read of $all.
 */
export class CoalescedAppends implements EventStore {
  private queue: PendingAppend[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly notifier: CommitNotifier;
  /** The newest committed transaction not yet announced, while an announcement is pending. */
  private unannounced: bigint | undefined;

  constructor(
    private readonly inner: EventStore,
    private readonly pool: pg.Pool,
    private readonly onCommitted: (events: readonly RecordedEvent[]) => void,
  ) {
    this.notifier = new CommitNotifier(pool, EVENTS_CHANNEL);
  }

  append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    // Nothing to batch, or an expectation the store must refuse with its own error.
    if (events.length === 0 || !isExpectation(expected))
      return this.inner.append(stream, events, expected, options);
    let checked: NewEvent[];
    let fence: Fence | undefined;
    try {
      // Validated here, as the wrapped store would, so a bad event fails its own append only.
      checked = validateEvents(stream, events).map((e) => (e.id ? e : { ...e, id: randomUUID() }));
      fence = options.fence === undefined ? undefined : checkFence(options.fence);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ stream, events: checked, expected, fence, resolve, reject });
      this.schedule();
    });
  }

  readStream: EventStore['readStream'] = (stream, options) => this.inner.readStream(stream, options);
  readAll: EventStore['readAll'] = (options) => this.inner.readAll(options);
  subscribe = (options?: SubscribeOptions) => this.inner.subscribe(options);
  nextTerm = (key: string) => this.inner.nextTerm(key);

  /** The wrapped store stays open (its owner closes it); waits for the appends in flight. */
  close(): Promise<void> {
    return this.flushed();
  }

  /** Resolves once no append is queued or in flight, and the last NOTIFY has gone out. */
  async flushed(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    await this.notifier.close();
  }

  /**
   * NOTIFY for other subscribers (the leader already has the events), a moment after the commit:
   * the commits of that moment share one NOTIFY, and the subscriptions it wakes (the leader's
   * among them) read once, after the commits on the critical path rather than during them.
   */
  private announce(transaction: bigint): void {
    const pending = this.unannounced;
    this.unannounced = pending === undefined || transaction > pending ? transaction : pending;
    if (pending !== undefined) return;
    setTimeout(() => {
      const newest = this.unannounced;
      this.unannounced = undefined;
      if (newest !== undefined) this.notifier.announce(newest);
    }, NOTIFY_DELAY_MS);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // After the current tick, so appends issued together (a worker claiming a poll) share it.
    queueMicrotask(() => {
      this.scheduled = false;
      while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        this.inFlight++;
        void this.commit(batch).finally(() => {
          this.inFlight--;
          if (this.queue.length > 0) this.schedule();
          else if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
        });
      }
    });
  }

  /** Never rejects: every append of the batch is settled, one way or the other. */
  private async commit(batch: readonly PendingAppend[]): Promise<void> {
    let rows: AppendRow[];
    try {
      const payload = batch
        .map((append, ord) => {
          const [kind, revision] = expectation(append.expected);
          const { fence } = append;
          return {
            ord,
            s: append.stream,
            k: kind,
            r: revision,
            e: append.events,
            fk: fence?.key,
            ft: fence?.term,
          };
        })
        .sort((a, b) => compare(a.s, b.s));
      ({ rows } = await this.pool.query<AppendRow>(
        `SELECT (a.x->>'ord')::int AS ord, r.outcome, r.revision, r.transaction_id::text AS transaction_id,
                r.global_seq
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, n)
         CROSS JOIN LATERAL dagrun_append_fenced(a.x->>'fk', (a.x->>'ft')::bigint,
           a.x->>'s', a.x->>'k', (a.x->>'r')::bigint, a.x->'e', false) AS r
         ORDER BY a.n`,
        [JSON.stringify(payload)],
      ));
    } catch {
      // Nothing was written. One by one through the store: each append gets what it would alone.
      await Promise.all(
        batch.map((a) =>
          this.inner.append(a.stream, a.events, a.expected, { fence: a.fence }).then(a.resolve, a.reject),
        ),
      );
      return;
    }
    const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
    const committed: RecordedEvent[] = [];
    let transaction: string | undefined;
    batch.forEach((append, ord) => {
      const row = byOrd.get(ord);
      const outcome = row?.outcome;
      switch (outcome) {
        case 'appended':
        case 'duplicate': {
          const { revision: last, transaction_id, global_seq } = row!;
          const revision = Number(last);
          const position = encodePosition(transaction_id ?? '0', global_seq ?? '0');
          append.resolve({ nextExpectedRevision: revision, position });
          if (outcome === 'duplicate') return;
          transaction = transaction_id ?? undefined;
          const only = append.events.length === 1 ? append.events[0] : undefined;
          if (only) committed.push(recorded(append.stream, only, revision, position));
          return;
        }
        case 'conflict':
          append.reject(
            new ConcurrencyError(
              append.stream,
              append.expected,
              row!.revision === null ? 'no_stream' : Number(row!.revision),
            ),
          );
          return;
        case 'fenced':
          append.reject(fencedError(append.fence ?? { key: '?', term: 0 }, row!.revision));
          return;
        case 'id_elsewhere':
        case 'id_mismatch':
          // A replayed id (rare): let the store word the error exactly as the contract says.
          this.inner
            .append(append.stream, append.events, append.expected, { fence: append.fence })
            .then(append.resolve, append.reject);
          return;
        case undefined:
          append.reject(new Error(`the batched append to ${append.stream} returned no row`));
          return;
        default: {
          const never: never = outcome;
          append.reject(new Error(`dagrun_append returned an unknown outcome ${String(never)}`));
        }
      }
    });
    if (transaction !== undefined) this.announce(BigInt(transaction));
    if (committed.length > 0) this.onCommitted(committed);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isExpectation(expected: ExpectedRevision): boolean {
  return typeof expected === 'number'
    ? Number.isSafeInteger(expected) && expected >= 0
    : expected === 'any' || expected === 'no_stream' || expected === 'stream_exists';
}

/** The SQL function's (kind, revision) pair for an expected revision. */
function expectation(expected: ExpectedRevision): [kind: string, revision: number | null] {
  return typeof expected === 'number' ? ['revision', expected] : [expected, null];
}

function recorded(
  streamName: string,
  event: NewEvent,
  revision: number,
  position: RecordedEvent['position'],
): RecordedEvent {
  return {
    id: event.id as string,
    streamName,
    revision,
    position,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    createdAt: new Date(),
  };
}
