/**
 * The EventStore port on EventStoreDB (KurrentDB) through @eventstore/db-client, for deployments
 * that already run it. Where EventStoreDB and the port differ, the adapter bridges the gap and
 * says how (docs/architecture.md, "The EventStoreDB adapter"):
 * - positions: the (commit, prepare) pair as the port's fixed-width hex `GlobalPosition`;
 * - an append's result position: read back from the stream, as the server reports a commit
 *   position that need not be the last event's $all position;
 * - an append of zero events: a read of the stream's last event, checked against `expected`;
 * - readAll with prefixes: filtered here, page by page (the client's readAll has no server-side
 *   filter); subscriptions filter on the server;
 * - fencing: a term stream per key and a check-then-append (fences.ts: weaker than Postgres);
 * - idempotency: the server's own, per event id within a stream — guaranteed for `no_stream` and
 *   revisions, best effort (a cache of recent ids) for `any` and `stream_exists`.
 */
import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  type JSONEventData,
  type JSONType,
  NO_STREAM,
  type ReadPosition,
  START,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { FencedError } from '../../errors.js';
import { START_POSITION } from '../position.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  Fence,
  GlobalPosition,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
} from '../types.js';
import { fenceStream, termOfRevision, termTakenEvent } from './fences.js';
import {
  fromEsdbRevision,
  isStoreEvent,
  matchesPrefixes,
  toAppendError,
  toEsdbExpectedRevision,
  toEsdbMetadata,
  toEsdbPosition,
  toGlobalPosition,
  toRecordedEvent,
} from './mapping.js';
import { EventStoreDbSubscription } from './subscription.js';
import {
  type CheckedEvent,
  checkEvents,
  checkExpected,
  checkFence,
  checkFenceKey,
  checkReadAll,
  checkReadStream,
  checkSubscribe,
  requireStreamName,
  requireWritableStream,
} from './validate.js';

/** The part of the client the store uses (a real `EventStoreDBClient`, or a stand-in in tests). */
export type EsdbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

interface CommonOptions {
  /**
   * A fenced append re-reads the fence when more than this many ms passed since it started its
   * last check (a slow read, a GC pause), to keep the check-then-append window short. Default 250.
   */
  readonly fenceCheckMaxAgeMs?: number;
  /**
   * Attempts of an append the server did not answer (timeout, unavailable, leader change).
   * Retries reuse the event ids, so the server answers a committed one as a duplicate. Default 3.
   */
  readonly appendAttempts?: number;
  /** Events fetched per page by `readAll` (before filtering). Default 1,000. */
  readonly readPageSize?: number;
}

/**
 * Where the store gets its client. Ownership follows creation: a `client` you pass stays yours
 * (dispose it after `store.close()`); with a `connectionString` (`esdb://host:2113?tls=false`) the
 * store creates its own and disposes of it in `close()`.
 */
export type EventStoreDbEventStoreOptions = CommonOptions &
  (
    | { readonly connectionString: string; readonly client?: never }
    | { readonly client: EsdbClient; readonly connectionString?: never }
  );

/** EventStoreDB implementation of the `EventStore` port. */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EsdbClient;
  private readonly ownsClient: boolean;
  private readonly fenceCheckMaxAgeMs: number;
  private readonly appendAttempts: number;
  private readonly readPageSize: number;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private closing: Promise<void> | undefined;

  constructor(options: EventStoreDbEventStoreOptions) {
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else if (typeof options.connectionString === 'string') {
      this.client = EventStoreDBClient.connectionString(options.connectionString);
      this.ownsClient = true;
    } else {
      throw new TypeError('EventStoreDbEventStore needs a connectionString or a client');
    }
    this.fenceCheckMaxAgeMs = options.fenceCheckMaxAgeMs ?? 250;
    this.appendAttempts = options.appendAttempts ?? 3;
    this.readPageSize = options.readPageSize ?? 1_000;
  }

  /**
   * Appends a batch to one stream, atomically, if `expected` holds (default `any`), and — with a
   * fence — only while the fence's term is the newest of its key (checked first; see fences.ts).
   *
   * - Throws `ConcurrencyError` (expected, actual) when `expected` does not hold; nothing written.
   * - Throws `FencedError` when the fence's term is not the newest; nothing written.
   * - Idempotent per event id within the stream (the server's check): a repeated batch is answered
   *   with the original result. Unlike Postgres, an id may repeat in another stream, and with
   *   `any`/`stream_exists` the check only covers recently written ids.
   * - Zero events writes nothing but checks `expected` against the stream's last event.
   * - Throws `ValidationError` for bad input, for `$…` or `dagrun-fence-…` streams and `$…` types.
   */
  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    requireWritableStream(stream);
    checkExpected(expected);
    const checked = checkEvents(events);
    const fence = options.fence === undefined ? undefined : checkFence(options.fence);
    if (checked.length === 0) {
      if (fence) await this.checkFence(fence);
      return this.checkExpectedOnly(stream, expected);
    }
    const written = await this.appendChecked(stream, checked, expected, fence);
    const revision = fromEsdbRevision(written.nextExpectedRevision);
    return { nextExpectedRevision: revision, position: await this.positionAt(stream, revision) };
  }

  /**
   * The next term of `key`: one more `TermTaken` event in `dagrun-fence-<key>`, whose revision + 1
   * is the term. Strictly increasing per key; concurrent callers get distinct terms.
   */
  async nextTerm(key: string): Promise<number> {
    this.assertOpen();
    checkFenceKey(key);
    const event = termTakenEvent(key, new Date());
    const result = await this.withRetries(() =>
      this.client.appendToStream(fenceStream(key), event, { expectedRevision: ANY }),
    );
    return termOfRevision(result.nextExpectedRevision);
  }

  /** Events of one stream in revision order, from `fromRevision` (default 0); `[]` if none. */
  async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    requireStreamName(stream);
    const { from, maxCount } = checkReadStream(options);
    const resolved = await collect(
      this.client.readStream(stream, {
        fromRevision: BigInt(from),
        direction: FORWARDS,
        ...(maxCount === undefined ? {} : { maxCount }),
      }),
    );
    return resolved.flatMap((r) => (r.event ? [toRecordedEvent(r.event)] : []));
  }

  /**
   * Events of all streams strictly after `after`, in $all order, without system events. Prefixes
   * are matched here while paging through $all (the client's readAll cannot filter on the
   * server), so a narrow prefix over a long log reads the whole log from `after`: page with
   * `maxCount`, or subscribe, which filters on the server.
   */
  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    const { after, maxCount, prefixes } = checkReadAll(options);
    const found: RecordedEvent[] = [];
    // readAll includes the event at its start position: `floor` skips what was already seen.
    let floor = after === undefined || after === START_POSITION ? undefined : after;
    for (;;) {
      const page = await collect(
        this.client.readAll({
          fromPosition: floor === undefined ? START : toEsdbPosition(floor),
          maxCount: this.readPageSize,
          direction: FORWARDS,
          resolveLinkTos: false,
        }),
      );
      for (const { event } of page) {
        if (event === undefined) continue;
        const position = toGlobalPosition(event.position);
        if (floor !== undefined && position <= floor) continue;
        if (!isStoreEvent(event.streamId, event.type) || !matchesPrefixes(event.streamId, prefixes)) continue;
        found.push(toRecordedEvent(event));
        if (found.length >= maxCount) return found;
      }
      const last = page.at(-1)?.event;
      if (page.length < this.readPageSize || last === undefined) return found;
      floor = toGlobalPosition(last.position);
    }
  }

  /**
   * A catch-up-then-live subscription to $all (`subscribeToAll`), filtered by stream prefix on
   * the server; see subscription.ts. `from: 'end'` is resolved now, so "new events" means events
   * written after `subscribe()`.
   */
  subscribe(options: SubscribeOptions = {}): EventStoreDbSubscription {
    this.assertOpen();
    const { from, prefixes, batchSize } = checkSubscribe(options);
    const start =
      from === 'start'
        ? Promise.resolve(undefined)
        : from === 'end'
          ? this.headPosition()
          : Promise.resolve(from);
    // Handled when iteration begins; never an unhandled rejection.
    start.catch(() => {});
    const filter = prefixes ? streamNameFilter({ prefixes: [...prefixes] }) : excludeSystemEvents();
    const subscription = new EventStoreDbSubscription({
      open: (fromPosition: ReadPosition) =>
        this.client.subscribeToAll(
          { fromPosition, filter, resolveLinkTos: false },
          { highWaterMark: batchSize },
        ),
      start: start.then((position) => (position === START_POSITION ? undefined : position)),
      prefixes,
      onClosed: (s) => this.subscriptions.delete(s),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Closes every subscription this store created, then the client if the store owns it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      if (this.ownsClient) await this.client.dispose();
    })();
    return this.closing;
  }

  /** The append itself, retried on no answer; a fence is (re)checked before every attempt. */
  private async appendChecked(
    stream: string,
    events: readonly CheckedEvent[],
    expected: ExpectedRevision,
    fence: Fence | undefined,
  ) {
    const payload: JSONEventData[] = events.map((e) => ({
      id: e.id,
      contentType: 'application/json',
      type: e.type,
      // Any JSON value: the client serializes it with JSON.stringify and parses it back.
      data: e.data as JSONType,
      metadata: toEsdbMetadata(e.metadata) as JSONType,
    }));
    try {
      return await this.withRetries(async () => {
        if (fence) await this.checkFence(fence);
        return this.client.appendToStream(stream, payload, {
          expectedRevision: toEsdbExpectedRevision(expected),
        });
      });
    } catch (error) {
      throw toAppendError(error, stream, expected);
    }
  }

  /**
   * Throws FencedError unless `fence.term` is the newest term of its key. Repeats the read while
   * it took longer than `fenceCheckMaxAgeMs` (at most three times), so the append follows a
   * fresh check.
   */
  private async checkFence(fence: Fence): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const current = await this.currentTerm(fence.key);
      if (current !== fence.term) throw new FencedError(fence.key, fence.term, current);
      if (performance.now() - started <= this.fenceCheckMaxAgeMs || attempt >= 3) return;
    }
  }

  /** The newest term taken for `key`, or undefined when none was. */
  private async currentTerm(key: string): Promise<number | undefined> {
    const last = await this.lastEvent(fenceStream(key));
    return last === undefined ? undefined : termOfRevision(last.revision);
  }

  /** An empty append: `expected` checked against the stream's last event, nothing written. */
  private async checkExpectedOnly(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const last = await this.lastEvent(stream);
    const actual = last === undefined ? 'no_stream' : last.revision;
    const holds =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      expected === actual;
    if (!holds) throw toAppendError(wrongExpectedVersion(stream, expected, actual), stream, expected);
    return last === undefined
      ? { nextExpectedRevision: -1, position: START_POSITION }
      : { nextExpectedRevision: last.revision, position: last.position };
  }

  /** The last event of a stream, read from the leader; undefined when the stream does not exist. */
  private async lastEvent(stream: string): Promise<RecordedEvent | undefined> {
    const [resolved] = await collect(
      this.client.readStream(stream, {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
        requiresLeader: true,
      }),
    );
    return resolved?.event ? toRecordedEvent(resolved.event) : undefined;
  }

  /**
   * The $all position of the event at `revision`, read back right after appending it. The
   * server's append result carries its commit position, which is not guaranteed to be the last
   * event's (commit, prepare) pair that readAll and subscriptions report.
   */
  private async positionAt(stream: string, revision: number): Promise<GlobalPosition> {
    for (let attempt = 1; ; attempt++) {
      const [resolved] = await collect(
        this.client.readStream(stream, { fromRevision: BigInt(revision), maxCount: 1, requiresLeader: true }),
      );
      if (resolved?.event) return toRecordedEvent(resolved.event).position;
      if (attempt >= 10)
        throw new Error(`stream ${stream}: revision ${revision} was appended but cannot be read`);
      await sleep(10 * attempt);
    }
  }

  /** The position of the newest record in $all (system events included), for `from: 'end'`. */
  private async headPosition(): Promise<GlobalPosition | undefined> {
    const [resolved] = await collect(
      this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, resolveLinkTos: false }),
    );
    return resolved?.event ? toGlobalPosition(resolved.event.position) : undefined;
  }

  /** Runs `operation`, again after a request the server did not answer (backoff 50 ms doubling). */
  private async withRetries<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= this.appendAttempts || !isUnanswered(error)) throw error;
        await sleep(50 * 2 ** (attempt - 1));
      }
    }
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('the event store is closed');
  }
}

/** Requests the server may or may not have carried out: safe to repeat with the same event ids. */
export function isUnanswered(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return (
    type === ErrorType.TIMEOUT ||
    type === ErrorType.DEADLINE_EXCEEDED ||
    type === ErrorType.UNAVAILABLE ||
    type === ErrorType.NOT_LEADER
  );
}

/** Everything a read yields; a stream that does not exist yields nothing. */
async function collect<E>(read: AsyncIterable<E>): Promise<E[]> {
  const out: E[] = [];
  try {
    for await (const item of read) out.push(item);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return out;
}

/** The client's error for a failed expectation, so the zero-event check maps like an append. */
function wrongExpectedVersion(
  stream: string,
  expected: ExpectedRevision,
  actual: number | 'no_stream',
): WrongExpectedVersionError {
  return new WrongExpectedVersionError(undefined, {
    streamName: stream,
    expected: toEsdbExpectedRevision(expected),
    current: actual === 'no_stream' ? NO_STREAM : BigInt(actual),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
