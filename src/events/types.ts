/**
 * The EventStore port. Every adapter (Postgres, EventStoreDB) implements this interface and passes
 * the contract suite in test/contract. Revisions are 0-based: the first event of a stream has
 * revision 0, so "expect revision 0" means "exactly one event is in the stream".
 */

/** W3C-style correlation metadata carried by every event. */
export interface EventMetadata {
  /** The id shared by everything one request or run caused. */
  readonly correlationId: string;
  /** The id of the event or command that directly caused this event. */
  readonly causationId: string;
  /** W3C traceparent of the span that appended the event, when tracing is on. */
  readonly traceparent?: string | undefined;
  /** Who did it: `user:<name>`, `scheduler:<term>`, `worker:<id>`, `cli`. */
  readonly actor: string;
  /** Anything else the writer wants to keep (e.g. the scheduler term). */
  readonly [key: string]: unknown;
}

/** An event to append. `id` makes the append idempotent; one is generated when absent. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  readonly id?: string;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/**
 * A position in the global order ($all). Opaque to callers: compare with `comparePositions`,
 * persist as the string itself. The Postgres adapter encodes (transaction id, sequence) so that
 * lexicographic order equals the total order.
 */
export type GlobalPosition = string & { readonly __brand: 'GlobalPosition' };

/** An event as stored. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  readonly id: string;
  readonly streamName: string;
  readonly revision: number;
  readonly position: GlobalPosition;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
  readonly createdAt: Date;
}

/**
 * What the writer believes about the stream:
 * - `any`: no check;
 * - `no_stream`: the stream must not exist yet (a claim);
 * - `stream_exists`: the stream must have at least one event;
 * - a number: the revision of the stream's last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** Revision of the last event now in the stream; pass it as `expected` on the next append. */
  readonly nextExpectedRevision: number;
  /** Global position of the last appended event. */
  readonly position: GlobalPosition;
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive). Default 0. */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Return events strictly after this position; from the beginning when absent. */
  readonly after?: GlobalPosition | undefined;
  readonly maxCount?: number;
  /** Only streams whose name starts with one of these prefixes (e.g. `run-`). */
  readonly streamPrefixes?: readonly string[];
}

export interface SubscribeOptions {
  /** Deliver events strictly after this checkpoint; `start` (default) or `end` (only new events). */
  readonly from?: GlobalPosition | 'start' | 'end';
  readonly streamPrefixes?: readonly string[];
  /** Events fetched per read while catching up. */
  readonly batchSize?: number;
  /**
   * Commits the subscriber already has (see `commitOf`), so the store may leave their events out
   * of its reads — the scheduler leader folds its own group commits as they commit and need not
   * read them back. Asked before each read with the subscription's position; returns the commits
   * still ahead of it (those behind it will never be asked about again). Best effort: a store
   * may deliver them anyway, and the subscriber must still recognise them.
   */
  readonly skipCommits?: (after: GlobalPosition | undefined) => Iterable<string>;
}

/**
 * A catch-up-then-live subscription. Iterate it with `for await`; iteration is pulled, so a slow
 * consumer slows reads instead of growing a buffer. `close()` ends the iteration cleanly.
 */
export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
  /**
   * How far it has read: every event up to here was delivered, or left out by its filters
   * (`streamPrefixes`, `skipCommits`). A new subscription resumes from here. Undefined when the
   * store does not say (resume from the last event delivered).
   */
  readonly position?: GlobalPosition | undefined;
}

/**
 * A fencing token (invariant 3): an append fenced with `term` commits only while `term` is the
 * newest term taken for `key` (see `EventStore.nextTerm`); otherwise it writes nothing and throws
 * `FencedError`.
 */
export interface Fence {
  readonly key: string;
  readonly term: number;
}

export interface AppendOptions {
  readonly fence?: Fence | undefined;
}

export interface EventStore {
  append(
    stream: string,
    events: readonly NewEvent[],
    expected?: ExpectedRevision,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Events of one stream in revision order; an empty array when the stream does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of all streams in the global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribe(options?: SubscribeOptions): EventSubscription;
  /**
   * Takes the next term for `key`: strictly greater than every term taken before for it, across
   * processes and restarts. From then on, appends fenced with an older term of `key` fail.
   */
  nextTerm(key: string): Promise<number>;
  close(): Promise<void>;
}
