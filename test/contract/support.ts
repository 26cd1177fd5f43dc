/** Small tools the contract suite shares: event factories, unique names, subscription readers. */
import { randomUUID } from 'node:crypto';
import type {
  EventStore,
  EventSubscription,
  NewEvent,
  ReadAllOptions,
  RecordedEvent,
} from '../../src/events/types.js';

/** A well-formed event; the contract does not care about payload shapes. */
export function newEvent(type = 'Tested', data: unknown = { n: 0 }, id: string = randomUUID()): NewEvent {
  return { id, type, data, metadata: { correlationId: 'c-1', causationId: 'c-0', actor: 'test' } };
}

/** `count` events numbered from `start` in their data (`{ n }`). */
export function numberedEvents(count: number, start = 0, type = 'Numbered'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => newEvent(type, { n: start + i }));
}

/** A name no other test uses, so tests can share one store and filter by prefix. */
export function uniqueName(label: string): string {
  return `${label}_${randomUUID().slice(0, 8)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}

/** Pulls exactly `count` events from an iterator, failing after `timeoutMs`. */
export async function take(
  iterator: AsyncIterator<RecordedEvent>,
  count: number,
  timeoutMs = 5_000,
): Promise<RecordedEvent[]> {
  const taken: RecordedEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    while (taken.length < count) {
      const next = await Promise.race([iterator.next(), timeout]);
      if (next === 'timeout') throw new Error(`took ${taken.length} of ${count} events before the timeout`);
      if (next.done) throw new Error(`the subscription ended after ${taken.length} of ${count} events`);
      taken.push(next.value);
    }
    return taken;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Consumes a subscription in the background, keeping what arrives, as a live consumer would.
 * `waitFor` resolves once enough has arrived.
 */
export class Collector {
  readonly events: RecordedEvent[] = [];
  private failure: unknown;
  private ended = false;
  readonly done: Promise<void>;

  constructor(readonly subscription: EventSubscription) {
    this.done = (async () => {
      try {
        for await (const event of subscription) this.events.push(event);
      } catch (error) {
        this.failure = error;
      } finally {
        this.ended = true;
      }
    })();
  }

  /** The first `count` events, once they are in; throws on timeout, error or early end. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<RecordedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) throw new Error(`subscription ended after ${this.events.length} of ${count} events`);
      if (Date.now() > deadline) throw new Error(`received ${this.events.length} of ${count} events in time`);
      await sleep(5);
    }
    return this.events.slice(0, count);
  }

  async close(): Promise<void> {
    await this.subscription.close();
    await this.done;
  }
}

export const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);

/**
 * readAll once it returns `count` events. $all shows a committed event only after every older
 * write transaction on the server has ended — other test files' included — so a test that reads
 * $all right after appending waits for visibility instead of assuming it.
 */
export async function readAllUntil(
  store: EventStore,
  options: ReadAllOptions,
  count: number,
  timeoutMs = 10_000,
): Promise<RecordedEvent[]> {
  return eventually(async () => {
    const events = await store.readAll(options);
    if (events.length < count) throw new Error(`readAll returned ${events.length} of ${count} events`);
    return events;
  }, timeoutMs);
}
