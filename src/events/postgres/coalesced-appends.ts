/**
 * Group commit of the appends made in one process (the in-process engine's workers and leader):
 * see the class comment. Postgres-specific — it calls `dagrun_append_batch` directly on the pool.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { decodePosition } from '../position.js';
import { validateEvents } from '../schemas/index.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  Fence,
  GlobalPosition,
  NewEvent,
  RecordedEvent,
  SubscribeOptions,
} from '../types.js';
import { type AppendSettlement, appendToStreams, checkFence } from './append.js';
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

/** Most appends one transaction carries. */
const MAX_BATCH = 256;
/** How long a NOTIFY waits for more commits to announce with it (see `announce`). */
const NOTIFY_DELAY_MS = 3;
/** Under a steady stream of commits, at most one NOTIFY per this many ms (see `announce`). */
const NOTIFY_INTERVAL_MS = 20;
/** Transactions in flight at once: one commits while the next one fills. */
const MAX_IN_FLIGHT = 2;

/**
 * Group commit for the appends made in this process. An append that arrives while
 * `MAX_IN_FLIGHT` transactions are committing waits for the next one, together with every other
 * append that arrived meanwhile; alone, it goes at once. Each append keeps its own expected
 * revision, fence and outcome: the batch is one multi-stream append (`appendToStreams`, one call
 * of `dagrun_append_batch`), so a claim that loses its race (`no_stream`) or an outcome that is
 * fenced off (revision 0) gets its ConcurrencyError while the others commit. Durability is
 * unchanged: nothing is reported before its transaction commits, and the commit is fsync'd like
 * any other.
 *
 * Locks: a batch claims its stream rows in name order (see migrations/0008_append_batch.sql), so
 * two batches in flight cannot deadlock on each other's stream rows; appends to one stream keep
 * the order they were made in. A batch that fails as a whole (a lost connection) is retried
 * append by append through the wrapped store, with the same event ids: an append that did
 * commit is answered as a duplicate, and every error is the one the store's contract names.
 *
 * `onCommitted` gets each commit (a position in it; see `commitOf`) with its single-event appends
 * as RecordedEvents, so the leader can fold a worker's claim or outcome without waiting for
 * NOTIFY and a read of $all — and leave the whole commit out of its subscription's reads.
 */
export class CoalescedAppends implements EventStore {
  private queue: PendingAppend[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly idle: (() => void)[] = [];
  private readonly notifier: CommitNotifier;
  /** The newest committed transaction not yet announced, while an announcement is pending. */
  private unannounced: bigint | undefined;
  private announcement: NodeJS.Timeout | undefined;
  /** performance.now() of the last NOTIFY sent. */
  private announcedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: EventStore,
    private readonly pool: pg.Pool,
    private readonly onCommitted: (events: readonly RecordedEvent[], commit: GlobalPosition) => void,
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
    if (this.announcement) {
      clearTimeout(this.announcement);
      this.sendAnnouncement();
    }
    await this.notifier.close();
  }

  /**
   * NOTIFY for other subscribers (the leader already has the events), a moment after the commit:
   * the commits of that moment share one NOTIFY, and the subscriptions it wakes (the leader's
   * among them) read once, after the commits on the critical path rather than during them.
   *
   * Under load the NOTIFYs are spaced by `NOTIFY_INTERVAL_MS`: each one is a transaction, and
   * each wakes every subscription for a read of $all (often two: the newest transaction is
   * hidden while the next batch is in flight). At 3 ms apart they were as many statements as the
   * appends themselves — about 0.1 ms of CPU per task, on both sides. Subscribers other than the
   * leader (projector, `dagrun run` progress) see the engine's events up to 20 ms later; a
   * commit after a quiet moment is still announced after 3 ms.
   */
  private announce(transaction: bigint): void {
    const pending = this.unannounced;
    this.unannounced = pending === undefined || transaction > pending ? transaction : pending;
    if (pending !== undefined) return;
    const wait = Math.max(NOTIFY_DELAY_MS, this.announcedAt + NOTIFY_INTERVAL_MS - performance.now());
    this.announcement = setTimeout(() => this.sendAnnouncement(), wait);
  }

  private sendAnnouncement(): void {
    const newest = this.unannounced;
    this.announcement = undefined;
    this.unannounced = undefined;
    this.announcedAt = performance.now();
    if (newest !== undefined) this.notifier.announce(newest);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT) return;
    this.scheduled = true;
    // Idle: after the current tick, so appends issued together (a worker claiming a poll) share
    // the commit and nothing waits longer (a chain's hop is a few commits in a row). Busy: at the
    // end of this turn of the event loop, so the leader's decisions — taken in a setImmediate
    // after each commit — join the claims and outcomes of that moment instead of taking a
    // transaction of their own (those were a third of the batches in the throughput benchmark).
    const defer = this.inFlight === 0 ? queueMicrotask : setImmediate;
    defer(() => {
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
    let settled: AppendSettlement[];
    try {
      settled = await appendToStreams(this.pool, batch);
    } catch {
      // Nothing was written. One by one through the store: each append gets what it would alone.
      await Promise.all(
        batch.map((a) =>
          this.inner.append(a.stream, a.events, a.expected, { fence: a.fence }).then(a.resolve, a.reject),
        ),
      );
      return;
    }
    const committed: RecordedEvent[] = [];
    /** A position in this batch's transaction, once an append of it committed. */
    let commit: GlobalPosition | undefined;
    batch.forEach((append, ord) => {
      const outcome = settled[ord] as AppendSettlement;
      if (outcome.status === 'rejected') {
        append.reject(outcome.reason);
        return;
      }
      const { value } = outcome;
      append.resolve(value);
      if (!outcome.appended) return;
      commit = value.position;
      const only = append.events.length === 1 ? append.events[0] : undefined;
      if (only) committed.push(recorded(append.stream, only, value.nextExpectedRevision, value.position));
    });
    if (commit === undefined) return;
    this.announce(decodePosition(commit).major);
    this.onCommitted(committed, commit);
  }
}

function isExpectation(expected: ExpectedRevision): boolean {
  return typeof expected === 'number'
    ? Number.isSafeInteger(expected) && expected >= 0
    : expected === 'any' || expected === 'no_stream' || expected === 'stream_exists';
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
