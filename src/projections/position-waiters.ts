/** Promises that resolve once a projection's checkpoint reaches a position ("read your writes"). */
import type { GlobalPosition } from '../events/types.js';

interface Waiter {
  readonly position: GlobalPosition;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The callers waiting for a checkpoint to reach their positions. */
export class PositionWaiters {
  private waiters: Waiter[] = [];

  /** Resolves once `reached(p)` is called with `p >= position`; rejects after `timeoutMs`. */
  wait(position: GlobalPosition, timeoutMs: number, describe: () => string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${describe()} did not reach ${position} in ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The checkpoint is now at `position`: release everyone waiting for it or earlier. */
  reached(position: GlobalPosition): void {
    const done = this.waiters.filter((w) => w.position <= position);
    this.waiters = this.waiters.filter((w) => w.position > position);
    for (const waiter of done) waiter.resolve();
  }

  /** The checkpoint will not move any more: fail every waiter with `error`. */
  rejectAll(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}
