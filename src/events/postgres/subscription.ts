/**
 * A catch-up-then-live subscription to $all over the Postgres store.
 *
 * Reads are pulled: the next page is fetched only when the consumer has taken the previous one,
 * so at most one page (`batchSize` events) is buffered and a slow consumer slows the reads.
 *
 * Live, it waits on a doorbell rung by NOTIFY (a hint carrying the committing transaction's
 * id) and by a poll timer (the fallback). A notification can arrive before its events are
 * visible — an older transaction still in flight holds the snapshot's xmin back (see read.ts) —
 * so after a read whose horizon is not yet past the newest notified transaction, it re-polls
 * with a short backoff (2 ms, doubling, up to the poll interval) instead of sleeping a whole
 * interval. Latency stays in milliseconds without a busy loop.
 *
 * Failures: a lost LISTEN connection is re-established in the background while polling carries
 * on. A transient read error (connection lost, server restarting, too many connections) is
 * retried with backoff (100 ms doubling to 5 s); after `maxReadAttempts` failures in a row, or at
 * once for an error that retrying cannot fix (bad SQL, bad data), the iterator throws it.
 */

import type pg from 'pg';
import { encodePosition, maxPosition, parsePosition, START_POSITION } from '../position.js';
import type { EventSubscription, GlobalPosition, RecordedEvent, SubscribeOptions } from '../types.js';
import { Doorbell } from './doorbell.js';
import { NotificationListener } from './listener.js';
import { invalid, type Queryable, readAllPage, readHeadPosition } from './read.js';

/** The largest events.global_seq can be (bigint). */
const MAX_SEQUENCE = (1n << 63n) - 1n;

/** The NOTIFY channel `dagrun_append` signals on. */
export const EVENTS_CHANNEL = 'dagrun_events';

/** Postgres-specific knobs, on top of the port's options. */
export interface PostgresSubscribeOptions extends SubscribeOptions {
  /** Fallback poll interval while live, in ms (default 500). */
  readonly pollIntervalMs?: number;
  /** First re-poll delay after a hint whose events are not visible yet, in ms (default 2). */
  readonly minRepollMs?: number;
  /** Consecutive failed reads before the iterator throws (default 10, about 20 s). */
  readonly maxReadAttempts?: number;
}

/** What a subscription reads through and how it listens; the store supplies them. */
export interface SubscriptionDependencies {
  readonly db: Queryable;
  /** Settings for the dedicated LISTEN connection. */
  readonly listenConnection: pg.ClientConfig;
  /** Told once the subscription has closed, so the store can forget it. */
  readonly onClosed?: (subscription: PostgresSubscription) => void;
}

/** A single-use, pulled subscription to $all; made by `PostgresEventStore.subscribe`. */
export class PostgresSubscription implements EventSubscription {
  private readonly doorbell = new Doorbell();
  private readonly listener: NotificationListener;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly minRepollMs: number;
  private readonly maxReadAttempts: number;
  private readonly streamPrefixes: readonly string[] | undefined;
  private readonly skipCommits: SubscribeOptions['skipCommits'];
  /** The read cursor (see `position`). */
  private after: GlobalPosition | undefined;
  /** Resolved eagerly for 'end', so "new events" means events committed after subscribe(). */
  private readonly start: Promise<GlobalPosition | undefined>;
  /** Newest transaction id a notification told us about that no read has covered yet. */
  private awaitedTransaction = -1n;
  private iterating = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly deps: SubscriptionDependencies,
    options: PostgresSubscribeOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.minRepollMs = options.minRepollMs ?? 2;
    this.maxReadAttempts = options.maxReadAttempts ?? 10;
    this.streamPrefixes = options.streamPrefixes;
    this.skipCommits = options.skipCommits;
    requirePositive(this.batchSize, 'batchSize');
    requirePositive(this.pollIntervalMs, 'pollIntervalMs');
    requirePositive(this.minRepollMs, 'minRepollMs');
    requirePositive(this.maxReadAttempts, 'maxReadAttempts');
    const from = options.from ?? 'start';
    if (from === 'start') this.start = Promise.resolve(undefined);
    else if (from === 'end') {
      this.start = readHeadPosition(deps.db);
      // Handled when iteration begins (re-resolved with retries); never an unhandled rejection.
      this.start.catch(() => {});
    } else this.start = Promise.resolve(parsePosition(from, 'from'));
    this.listener = new NotificationListener({
      connection: deps.listenConnection,
      channel: EVENTS_CHANNEL,
      onNotify: (payload) => this.hint(payload),
      // Anything committed while not listening went unannounced: look now.
      onListening: () => this.doorbell.ring(),
    });
  }

  /** True once `close()` was called or the iteration ended. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Every event up to here was delivered or filtered out; undefined before the first read. */
  get position(): GlobalPosition | undefined {
    return this.after;
  }

  /** The LISTEN connection's server pid while it is up (diagnostics and tests). */
  get listenerPid(): number | undefined {
    return this.listener.backendPid;
  }

  /** Single use: a subscription is one cursor over the log. */
  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.iterating) throw new Error('a subscription can be iterated only once');
    this.iterating = true;
    return this.run();
  }

  /** Ends the iteration (a pending `next()` resolves done) and releases the LISTEN connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.doorbell.close();
      await this.listener.close();
      this.deps.onClosed?.(this);
    })();
    return this.closing;
  }

  private async *run(): AsyncGenerator<RecordedEvent, void, undefined> {
    try {
      if (this.closed) return;
      this.listener.start();
      this.after = await this.withRetries(async () => {
        try {
          return await this.start;
        } catch {
          return await readHeadPosition(this.deps.db); // the eager attempt failed: once more
        }
      });
      let repollMs = 0; // > 0 while chasing a notified transaction that is not visible yet
      while (!this.closed) {
        const page = await this.withRetries(() =>
          readAllPage(
            this.deps.db,
            { after: this.after, maxCount: this.batchSize, streamPrefixes: this.streamPrefixes },
            this.skipCommits ? [...this.skipCommits(this.after)] : [],
          ),
        );
        if (page === undefined) return;
        if (page.horizon > this.awaitedTransaction) this.awaitedTransaction = -1n;
        for (const event of page.events) {
          if (this.closed) return;
          this.after = event.position;
          yield event;
        }
        if (page.events.length === this.batchSize) continue; // catching up: read on at once
        // A partial page means every visible event has been looked at, matching or not, and
        // whatever commits later has a transaction id at or above the horizon. Skip the scan
        // ahead to there, so a filtered subscription does not re-read a growing tail of events
        // it does not want on every poll.
        this.after = maxPosition(this.after ?? START_POSITION, scannedUpTo(page.horizon));
        if (this.awaitedTransaction >= 0n) {
          repollMs = repollMs === 0 ? this.minRepollMs : Math.min(repollMs * 2, this.pollIntervalMs);
          await this.doorbell.wait(repollMs);
        } else {
          repollMs = 0;
          await this.doorbell.wait(this.pollIntervalMs);
        }
      }
    } finally {
      await this.close();
    }
  }

  private hint(payload: string | undefined): void {
    // The payload is the committing transaction's id; anything else still means "look".
    if (payload && /^\d+$/.test(payload)) {
      const xid = BigInt(payload);
      if (xid > this.awaitedTransaction) this.awaitedTransaction = xid;
    }
    this.doorbell.ring();
  }

  /** Runs `read`, retrying transient failures; undefined when closed meanwhile. */
  private async withRetries<T>(read: () => Promise<T>): Promise<T | undefined> {
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return undefined;
      try {
        return await read();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.maxReadAttempts) throw error;
      }
      await this.doorbell.wait(delay); // a ring only shortens the pause; close ends it
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** A scan cursor just below transaction id `horizon`: past every event of older transactions. */
function scannedUpTo(horizon: bigint): GlobalPosition {
  return horizon > 0n ? encodePosition(horizon - 1n, MAX_SEQUENCE) : START_POSITION;
}

/**
 * Errors that another try may cure: a lost or refused connection (pg's plain errors and Node's
 * socket errors carry no SQLSTATE), the server shutting down or starting (57P01–57P03), class 08
 * (connection), 53 (resources), 40 (serialization, deadlock). A SQLSTATE of any other class is
 * bad SQL or bad data, and a JS TypeError/RangeError/etc. is a bug: retrying would not help.
 */
export function isTransient(error: unknown): boolean {
  if (isDatabaseError(error)) return /^(08|53|40)/.test(error.code) || /^57P0[123]$/.test(error.code);
  if (isSystemError(error)) return true;
  // pg reports a dropped connection or a connect timeout as a plain Error.
  return error instanceof Error && error.constructor === Error;
}

/** pg's DatabaseError: an ErrorResponse from the server, with a SQLSTATE. */
function isDatabaseError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error && 'severity' in error && typeof (error as { code?: unknown }).code === 'string'
  );
}

/** Node's socket errors: ECONNRESET, ECONNREFUSED, EPIPE, ETIMEDOUT, … */
function isSystemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function requirePositive(value: number, path: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(path, 'must be a positive integer');
}
