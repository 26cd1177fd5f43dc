/**
 * A catch-up-then-live subscription to $all over EventStoreDB, as the port's pulled
 * `EventSubscription`.
 *
 * The server does the catching up and the going live (`subscribeToAll`), filtered by stream-name
 * prefix on the server. The client hands events over as an object-mode Readable, which buffers at
 * most `batchSize` events and then stops reading from the gRPC stream (HTTP/2 flow control pushes
 * back to the server): a slow consumer slows delivery instead of growing a buffer.
 *
 * Each event is checked once more here: system events and fencing terms are dropped, and so is
 * anything at or before the last delivered position — after a reconnect the server resumes from
 * that position, and this makes the resume exact whichever way the server treats its bound.
 *
 * Failures: a dropped subscription (server restart, leader change, network) is reopened from the
 * last delivered position with backoff (100 ms doubling to 5 s); after `maxAttempts` failures in a
 * row, or at once for an error retrying cannot fix (access denied, bad request), the iterator
 * throws it. `close()` ends a pending `next()` at once and cancels the server subscription.
 */
import { type AllStreamResolvedEvent, ErrorType, type ReadPosition, START } from '@eventstore/db-client';
import type { EventSubscription, GlobalPosition, RecordedEvent } from '../types.js';
import {
  isStoreEvent,
  matchesPrefixes,
  toEsdbPosition,
  toGlobalPosition,
  toRecordedEvent,
} from './mapping.js';

/** What the client's `subscribeToAll` returns, as far as the wrapper uses it. */
export interface SubscriptionSource extends AsyncIterable<AllStreamResolvedEvent> {
  unsubscribe(): Promise<void>;
  destroy(error?: Error): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SubscriptionDependencies {
  /** Opens a server subscription delivering events after `from` (exclusive), or from the start. */
  readonly open: (from: ReadPosition) => SubscriptionSource;
  /** Where to start: after this position, or from the very start when undefined. */
  readonly start: Promise<GlobalPosition | undefined>;
  /** Only streams starting with one of these (also filtered on the server); undefined: all. */
  readonly prefixes: readonly string[] | undefined;
  /** Told once the subscription has closed, so the store can forget it. */
  readonly onClosed?: (subscription: EventStoreDbSubscription) => void;
  /** Consecutive failed (re)connections before the iterator throws (default 10). */
  readonly maxAttempts?: number;
  /** First reconnection delay in ms, doubling to 5 s (default 100). */
  readonly retryDelayMs?: number;
}

const CLOSED = Symbol('closed');
const MAX_RETRY_DELAY_MS = 5_000;

/** Errors after which reopening the subscription can help: the server or the network went away. */
export function isTransientError(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return (
    type === ErrorType.UNAVAILABLE ||
    type === ErrorType.DEADLINE_EXCEEDED ||
    type === ErrorType.TIMEOUT ||
    type === ErrorType.NOT_LEADER ||
    type === ErrorType.CANCELLED
  );
}

/** A single-use, pulled subscription to $all; made by `EventStoreDbEventStore.subscribe`. */
export class EventStoreDbSubscription implements EventSubscription {
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private iterating = false;
  private closing: Promise<void> | undefined;
  private signalClosed!: () => void;
  private readonly closed = new Promise<typeof CLOSED>((resolve) => {
    this.signalClosed = () => resolve(CLOSED);
  });
  private source: SubscriptionSource | undefined;

  constructor(private readonly deps: SubscriptionDependencies) {
    this.maxAttempts = deps.maxAttempts ?? 10;
    this.retryDelayMs = deps.retryDelayMs ?? 100;
  }

  /** Single use: a subscription is one cursor over the log. */
  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.iterating) throw new Error('a subscription can be iterated only once');
    this.iterating = true;
    return this.run();
  }

  /** Ends the iteration (a pending `next()` resolves done) and cancels the server subscription. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.signalClosed();
      await this.release();
      this.deps.onClosed?.(this);
    })();
    return this.closing;
  }

  private async *run(): AsyncGenerator<RecordedEvent, void, undefined> {
    try {
      const start = await this.untilClosed(this.deps.start);
      if (start === CLOSED) return;
      let last = start;
      let failures = 0;
      while (!this.closing) {
        const source = this.deps.open(last === undefined ? START : toEsdbPosition(last));
        this.source = source;
        const iterator = source[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await this.untilClosed(iterator.next());
            if (next === CLOSED) return;
            if (next.done) break; // the server ended it: reopen from where we are
            failures = 0;
            const event = next.value.event;
            if (event === undefined) continue;
            const position = toGlobalPosition(event.position);
            if (last !== undefined && position <= last) continue;
            last = position;
            if (!isStoreEvent(event.streamId, event.type)) continue;
            if (!matchesPrefixes(event.streamId, this.deps.prefixes)) continue;
            yield toRecordedEvent(event);
          }
        } catch (error) {
          if (this.closing) return;
          failures++;
          if (!isTransientError(error) || failures >= this.maxAttempts) throw error;
          const delay = Math.min(this.retryDelayMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
          if ((await this.untilClosed(sleep(delay))) === CLOSED) return;
        } finally {
          await this.release();
        }
      }
    } finally {
      await this.close();
    }
  }

  /** `promise`, or CLOSED as soon as `close()` is called; a later rejection is then ignored. */
  private untilClosed<T>(promise: Promise<T>): Promise<T | typeof CLOSED> {
    promise.catch(() => {}); // settled by the release below if close() wins the race
    return Promise.race([promise, this.closed]);
  }

  /** Cancels the current server subscription, if any. */
  private async release(): Promise<void> {
    const source = this.source;
    this.source = undefined;
    if (!source) return;
    // No one listens any more: an error the gRPC stream still reports must not go unhandled.
    source.on('error', () => {});
    try {
      await source.unsubscribe();
    } catch {
      // Already gone (the server dropped it): nothing left to cancel.
    }
    source.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
