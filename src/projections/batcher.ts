/**
 * Cuts a pulled stream of events into batches: a batch closes when it is full, or when no
 * further event arrives within a short window after the first one — the stream has nothing more
 * ready, so the projector should commit what it has rather than wait for the next append.
 *
 * A `next()` of the source still pending when the window closes is kept and awaited by the next
 * batch, so no event is dropped or read twice.
 */
import type { RecordedEvent } from '../events/types.js';

export interface EventBatch {
  readonly events: RecordedEvent[];
  /** The source had nothing more ready when the batch closed: applying it reaches the head. */
  readonly drained: boolean;
  /** The source has ended (its subscription was closed); no batch will follow. */
  readonly ended: boolean;
}

/** Batches from one async iterator; single consumer. */
export class EventBatcher {
  private pending: Promise<IteratorResult<RecordedEvent>> | undefined;
  private ended = false;

  /**
   * @param maxSize most events in a batch
   * @param windowMs how long after the batch's first event to wait for more
   */
  constructor(
    private readonly source: AsyncIterator<RecordedEvent>,
    private readonly maxSize: number,
    private readonly windowMs: number,
  ) {
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) throw new RangeError('maxSize must be >= 1');
    if (!(windowMs >= 0)) throw new RangeError('windowMs must be >= 0');
  }

  /** Waits for at least one event (or the end), then collects the rest of the batch. */
  async next(): Promise<EventBatch> {
    const events: RecordedEvent[] = [];
    if (this.ended) return { events, drained: true, ended: true };
    const first = await this.take();
    if (first.done) return this.end(events);
    events.push(first.value);
    const deadline = performance.now() + this.windowMs;
    while (events.length < this.maxSize) {
      const result = await this.takeWithin(deadline - performance.now());
      if (result === 'timeout') return { events, drained: true, ended: false };
      if (result.done) return this.end(events);
      events.push(result.value);
    }
    return { events, drained: false, ended: false };
  }

  private end(events: RecordedEvent[]): EventBatch {
    this.ended = true;
    return { events, drained: true, ended: true };
  }

  private async take(): Promise<IteratorResult<RecordedEvent>> {
    this.pending ??= this.source.next();
    const result = await this.pending;
    this.pending = undefined;
    return result;
  }

  /**
   * The next event if it comes within `ms`. Even at `ms <= 0` it yields to a macrotask first, so
   * events the source already holds in memory (resolved in microtasks) still join the batch.
   */
  private async takeWithin(ms: number): Promise<IteratorResult<RecordedEvent> | 'timeout'> {
    this.pending ??= this.source.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
    });
    try {
      const result = await Promise.race([this.pending, timeout]);
      if (result !== 'timeout') this.pending = undefined;
      return result;
    } finally {
      clearTimeout(timer);
    }
  }
}
