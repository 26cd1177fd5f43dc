/**
 * A one-slot wake-up signal with a timeout. A ring that arrives while nobody waits is kept, so a
 * notification that lands during a read is not lost; many rings coalesce into one.
 */

/** Why `wait` returned. */
export type WakeReason = 'rung' | 'timeout' | 'closed';

/** Wakes one waiting loop: rung by notifications, closed on shutdown. */
export class Doorbell {
  private pending = false;
  private closed = false;
  private waiter: ((reason: WakeReason) => void) | undefined;

  /** Wakes the current waiter, or the next one if nobody waits. */
  ring(): void {
    if (this.closed) return;
    if (this.waiter) this.settle('rung');
    else this.pending = true;
  }

  /** Resolves on a ring (or one kept from before), after `ms`, or when closed; never rejects. */
  wait(ms: number): Promise<WakeReason> {
    if (this.closed) return Promise.resolve('closed');
    if (this.pending) {
      this.pending = false;
      return Promise.resolve('rung');
    }
    if (this.waiter) throw new Error('Doorbell supports one waiter at a time');
    return new Promise<WakeReason>((resolve) => {
      const timer = setTimeout(() => this.settle('timeout'), ms);
      this.waiter = (reason) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(reason);
      };
    });
  }

  /** Releases the waiter (with 'closed') and every later wait at once. */
  close(): void {
    this.closed = true;
    this.pending = false;
    this.settle('closed');
  }

  private settle(reason: WakeReason): void {
    this.waiter?.(reason);
  }
}
