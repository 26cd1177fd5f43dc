/**
 * The default EventStore: two tables and one SQL function in Postgres
 * (migrations/0001_event_store.sql). Appends are one round trip; $all is read in
 * (transaction id, sequence) order over ended transactions only, so no reader ever skips an
 * event that commits late (see read.ts for the reasoning and its one cost).
 */
import type pg from 'pg';
import { createPool } from '../../db/pool.js';
import { decodePosition } from '../position.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
} from '../types.js';
import { appendToStream, nextTerm } from './append.js';
import { CommitNotifier } from './notifier.js';
import { readAllEvents, readStreamEvents } from './read.js';
import { EVENTS_CHANNEL, type PostgresSubscribeOptions, PostgresSubscription } from './subscription.js';

interface CommonOptions {
  /**
   * How appends wake live subscriptions (which also poll, so this only affects latency):
   * - `after_commit` (default): a NOTIFY after the append commits, coalesced across concurrent
   *   appends; keeps group commit (see notifier.ts for the measurements);
   * - `in_transaction`: NOTIFY inside the append's transaction; serializes commits;
   * - `off`: no NOTIFY; subscriptions rely on their poll interval.
   */
  readonly notify?: 'after_commit' | 'in_transaction' | 'off';
  /** Connection settings for subscriptions' LISTEN clients. Default: the pool's own settings. */
  readonly listenConnection?: pg.ClientConfig;
  /** Defaults for every `subscribe()`; per-call options win. */
  readonly subscriptionDefaults?: Omit<PostgresSubscribeOptions, 'from' | 'streamPrefixes'>;
}

/**
 * Where the store gets its connections. Ownership follows creation: a `pool` you pass stays
 * yours (the store never ends it; end it after `store.close()`); with a `connectionString` the
 * store creates its own pool and ends it in `close()`.
 */
export type PostgresEventStoreOptions = CommonOptions &
  (
    | { readonly pool: pg.Pool; readonly connectionString?: never }
    | { readonly connectionString: string; readonly pool?: never; readonly poolSize?: number }
  );

/** Postgres implementation of the `EventStore` port. */
export class PostgresEventStore implements EventStore {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly listenConnection: pg.ClientConfig;
  private readonly subscriptions = new Set<PostgresSubscription>();
  private readonly notifier: CommitNotifier;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: PostgresEventStoreOptions) {
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
    } else if (typeof options.connectionString === 'string') {
      this.pool = createPool(options.connectionString, {
        max: options.poolSize ?? 10,
        applicationName: 'dagrun-events',
      });
      this.ownsPool = true;
    } else {
      throw new TypeError('PostgresEventStore needs a pool or a connectionString');
    }
    this.listenConnection = options.listenConnection ?? listenSettingsOf(this.pool);
    this.notifier = new CommitNotifier(this.pool, EVENTS_CHANNEL);
  }

  /** The pool the store reads and writes through (for callers that append in a transaction). */
  get connectionPool(): pg.Pool {
    return this.pool;
  }

  /**
   * Appends a batch to one stream, atomically, if `expected` holds (default `any`).
   *
   * - Throws `ConcurrencyError` (expected, actual) when it does not; nothing is written.
   * - Idempotent per event id: a batch whose ids are already in this stream, in order, is
   *   answered with the original result and written again nowhere — also when two identical
   *   appends race. An id that belongs to another stream, or a batch that only partly matches,
   *   throws `ConflictError` (`duplicate_event_id` / `idempotency_mismatch`).
   * - Zero events writes nothing but still checks `expected` (as EventStoreDB does) and returns
   *   the stream's current state: revision -1 and the start position when it does not exist.
   * - Throws `ValidationError` for an empty stream name, a bad id, type or expectation, or more
   *   than `MAX_APPEND_BATCH` events.
   */
  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    const mode = this.options.notify ?? 'after_commit';
    const result = await appendToStream(this.pool, stream, events, expected, {
      notify: mode === 'in_transaction',
      fence: options.fence,
    });
    if (mode === 'after_commit' && events.length > 0)
      this.notifier.announce(decodePosition(result.position).major);
    return result;
  }

  /** The next fencing term of `key` (migrations/0004_fences.sql). */
  async nextTerm(key: string): Promise<number> {
    this.assertOpen();
    return nextTerm(this.pool, key);
  }

  /** Events of one stream in revision order, from `fromRevision` (default 0); `[]` if none. */
  async readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    return readStreamEvents(this.pool, stream, options);
  }

  /**
   * Events of all streams strictly after `after`, in the global order, from ended transactions
   * only. Without `maxCount` it returns everything: page with `maxCount` and the last position.
   */
  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    this.assertOpen();
    return readAllEvents(this.pool, options);
  }

  /**
   * A catch-up-then-live subscription to $all. It opens its own LISTEN connection when iteration
   * starts (so it needs one connection beyond the pool) and releases it on `close()`, on `break`,
   * or when the store closes.
   */
  subscribe(options: PostgresSubscribeOptions = {}): PostgresSubscription {
    this.assertOpen();
    const subscription = new PostgresSubscription(
      {
        db: this.pool,
        listenConnection: this.listenConnection,
        onClosed: (s) => this.subscriptions.delete(s),
      },
      { ...this.options.subscriptionDefaults, ...options },
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** Closes every subscription this store created, then the pool if the store owns it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subscriptions].map((s) => s.close()));
      await this.notifier.close();
      if (this.ownsPool) await this.pool.end();
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new Error('the event store is closed');
  }
}

/** Connection settings a LISTEN client copies from the pool (the pool-only ones stay behind). */
const CONNECTION_KEYS = [
  'connectionString',
  'host',
  'port',
  'user',
  'password',
  'database',
  'ssl',
  'options',
  'types',
  'client_encoding',
  'connectionTimeoutMillis',
  'keepAliveInitialDelayMillis',
  'stream',
] as const satisfies readonly (keyof pg.ClientConfig)[];

function listenSettingsOf(pool: pg.Pool): pg.ClientConfig {
  const source = pool.options as pg.ClientConfig;
  const settings: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) if (source[key] !== undefined) settings[key] = source[key];
  const name = source.application_name;
  return { ...(settings as pg.ClientConfig), application_name: name ? `${name}-listen` : 'dagrun-listen' };
}
