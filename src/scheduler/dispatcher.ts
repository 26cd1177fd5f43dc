/**
 * The dispatcher: one deque per live worker. A queued attempt goes to the least-loaded worker
 * that has the labels it needs; a worker that polls with its own deque empty steals from the
 * tail of the busiest deque it can serve. Workers pull with credits (their free slots), so a slow
 * worker is never flooded. The number of queued-but-unclaimed attempts is bounded: the leader
 * asks `budget()` before queueing more, and the rest waits in the log as pending tasks.
 *
 * An attempt handed to a worker stays tracked until the worker claims it (AttemptStarted); if
 * the worker leaves, or does not claim it in time, it is handed out again. That is safe because a
 * claim is an append that only one worker can win (invariant 1).
 */
import { Deque } from './deque.js';
import {
  type AttemptRef,
  attemptKey,
  type PollOptions,
  type PollResult,
  type WorkerInfo,
  type WorkItem,
  type WorkSource,
} from './work-source.js';

export interface DispatcherOptions {
  /** Most queued-but-unclaimed attempts held at once. */
  readonly maxBacklog: number;
  /** Let an idle worker take work from another worker's deque. */
  readonly stealing?: boolean;
  /** Re-dispatch an attempt that its worker has not claimed after this long. */
  readonly claimTimeoutMs?: number;
  /** Told whenever backlog room frees up, so the leader can queue more. */
  readonly onRoom?: () => void;
  /** Told how long each claimed attempt waited, from `enqueue` to its claim (for metrics). */
  readonly onClaimed?: (waitedMs: number) => void;
  readonly now?: () => number;
}

interface WorkerSlot {
  readonly info: WorkerInfo;
  readonly deque: Deque<WorkItem>;
  /** Handed out and not yet claimed. */
  outstanding: number;
  cancel: AttemptRef[];
  wake: (() => void) | undefined;
}

interface HandedOut {
  readonly item: WorkItem;
  readonly workerId: string;
  readonly at: number;
}

export class Dispatcher implements WorkSource {
  private readonly workers = new Map<string, WorkerSlot>();
  /** Attempts no live worker can serve yet (no worker, or none with the labels). */
  private readonly unassigned = new Deque<WorkItem>();
  private readonly handedOut = new Map<string, HandedOut>();
  private readonly queuedKeys = new Set<string>();
  /** performance.now() of each tracked attempt's `enqueue`, kept across hand-outs (metrics). */
  private readonly enqueuedAt = new Map<string, number>();
  private readonly stealing: boolean;
  private readonly claimTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.stealing = options.stealing ?? true;
    this.claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Attempts queued and not yet claimed (handed out or not). */
  get backlog(): number {
    // Handed out but not yet claimed still counts: in the log those attempts are unclaimed too.
    return this.queuedKeys.size + this.handedOut.size;
  }

  /** How many more attempts the leader may queue now. */
  budget(): number {
    return Math.max(0, this.options.maxBacklog - this.backlog);
  }

  /** Queues an attempt; a no-op when the same attempt is already queued or handed out. */
  enqueue(item: WorkItem): void {
    const key = attemptKey(item);
    if (this.queuedKeys.has(key) || this.handedOut.has(key)) return;
    this.queuedKeys.add(key);
    if (this.options.onClaimed) this.enqueuedAt.set(key, performance.now());
    this.place(item);
  }

  /** The attempt was claimed (or decided): stop tracking it. */
  settled(ref: AttemptRef): void {
    const key = attemptKey(ref);
    const enqueued = this.enqueuedAt.get(key);
    if (enqueued !== undefined) {
      this.enqueuedAt.delete(key);
      this.options.onClaimed?.(performance.now() - enqueued);
    }
    const handed = this.handedOut.get(key);
    if (handed) {
      this.handedOut.delete(key);
      const slot = this.workers.get(handed.workerId);
      if (slot) slot.outstanding = Math.max(0, slot.outstanding - 1);
      this.options.onRoom?.();
    }
    if (this.queuedKeys.delete(key)) {
      for (const slot of [...this.workers.values(), undefined]) {
        const deque = slot ? slot.deque : this.unassigned;
        deque.drain((i) => attemptKey(i) === key);
      }
      this.options.onRoom?.();
    }
  }

  /**
   * Takes back what a poll handed out but never reached its worker (a network transport whose
   * connection dropped): the items are queued again, the cancellations kept for the next poll.
   */
  giveBack(workerId: string, result: PollResult): void {
    for (const item of result.items) {
      const key = attemptKey(item);
      const handed = this.handedOut.get(key);
      if (!handed || handed.workerId !== workerId) continue;
      this.handedOut.delete(key);
      const slot = this.workers.get(workerId);
      if (slot) slot.outstanding = Math.max(0, slot.outstanding - 1);
      this.queuedKeys.add(key);
      this.place(item);
    }
    const slot = this.workers.get(workerId);
    if (slot) slot.cancel.push(...result.cancel);
  }

  /** Asks a worker to kill an attempt (delivered with its next poll). */
  cancel(workerId: string, ref: AttemptRef): void {
    const slot = this.workers.get(workerId);
    if (!slot) return;
    slot.cancel.push(ref);
    slot.wake?.();
  }

  /** Forgets everything queued (the leader lost its leadership). */
  clear(): void {
    for (const slot of this.workers.values()) slot.deque.drain();
    this.unassigned.drain();
    this.queuedKeys.clear();
    this.enqueuedAt.clear();
    this.handedOut.clear();
    for (const slot of this.workers.values()) slot.outstanding = 0;
  }

  liveWorkers(): ReadonlySet<string> {
    return new Set(this.workers.keys());
  }

  async join(info: WorkerInfo): Promise<void> {
    if (this.workers.has(info.id)) return;
    this.workers.set(info.id, { info, deque: new Deque(), outstanding: 0, cancel: [], wake: undefined });
    for (const item of this.unassigned.drain()) this.place(item);
  }

  async leave(workerId: string): Promise<void> {
    const slot = this.workers.get(workerId);
    if (!slot) return;
    this.workers.delete(workerId);
    slot.wake?.();
    for (const item of slot.deque.drain()) this.place(item);
    for (const [key, handed] of this.handedOut) {
      if (handed.workerId === workerId) {
        this.handedOut.delete(key);
        this.queuedKeys.add(key);
        this.place(handed.item);
      }
    }
  }

  async poll(workerId: string, credits: number, options: PollOptions): Promise<PollResult> {
    const slot = this.workers.get(workerId);
    if (!slot) throw new Error(`worker ${workerId} has not joined`);
    this.reclaimStale();
    let result = this.take(slot, credits);
    if (
      result.items.length === 0 &&
      result.cancel.length === 0 &&
      options.waitMs > 0 &&
      !options.signal?.aborted
    ) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          // A newer poll of the same worker may have taken the wake-up over (a network client
          // that gave up on this one and polled again before it ended): leave that one alone.
          if (slot.wake === done) slot.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, options.waitMs);
        options.signal?.addEventListener('abort', done, { once: true });
        slot.wake = done;
      });
      result = this.workers.has(workerId) ? this.take(slot, credits) : { items: [], cancel: [] };
    }
    return result;
  }

  private take(slot: WorkerSlot, credits: number): PollResult {
    const items: WorkItem[] = [];
    while (items.length < credits) {
      const own = slot.deque.popFront();
      const item = own ?? (this.stealing ? this.steal(slot) : undefined);
      if (!item) break;
      items.push(item);
    }
    const at = this.now();
    for (const item of items) {
      const key = attemptKey(item);
      this.queuedKeys.delete(key);
      this.handedOut.set(key, { item, workerId: slot.info.id, at });
      slot.outstanding++;
    }
    const cancel = slot.cancel;
    slot.cancel = [];
    if (items.length > 0) this.options.onRoom?.();
    return { items, cancel };
  }

  /** Takes from the tail of the busiest deque this worker can serve. */
  private steal(thief: WorkerSlot): WorkItem | undefined {
    let victim: WorkerSlot | undefined;
    for (const slot of this.workers.values()) {
      if (slot === thief || slot.deque.length === 0) continue;
      if (!victim || slot.deque.length > victim.deque.length) victim = slot;
    }
    if (!victim) return undefined;
    const item = victim.deque.popBack();
    if (item && !canServe(thief.info, item)) {
      victim.deque.pushBack(item);
      return undefined;
    }
    return item;
  }

  private place(item: WorkItem): void {
    let best: WorkerSlot | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const slot of this.workers.values()) {
      if (!canServe(slot.info, item)) continue;
      const load = (slot.deque.length + slot.outstanding) / Math.max(1, slot.info.capacity);
      if (load < bestLoad) {
        best = slot;
        bestLoad = load;
      }
    }
    if (!best) {
      this.unassigned.pushBack(item);
      return;
    }
    best.deque.pushBack(item);
    // Wake the chosen worker, or, when it is busy and stealing is on, any idle one.
    if (best.wake) {
      best.wake();
      return;
    }
    if (!this.stealing) return;
    for (const slot of this.workers.values()) {
      if (slot.wake) {
        slot.wake();
        return;
      }
    }
  }

  private reclaimStale(): void {
    const cutoff = this.now() - this.claimTimeoutMs;
    for (const [key, handed] of this.handedOut) {
      if (handed.at > cutoff) continue;
      this.handedOut.delete(key);
      const slot = this.workers.get(handed.workerId);
      if (slot) slot.outstanding = Math.max(0, slot.outstanding - 1);
      this.queuedKeys.add(key);
      this.place(handed.item);
    }
  }
}

function canServe(worker: WorkerInfo, item: WorkItem): boolean {
  return item.labels.every((label) => worker.labels.includes(label));
}
