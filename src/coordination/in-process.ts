/**
 * Coordination inside one process: the first candidate leads at once. Terms must still grow
 * across restarts on the same log (a new leader's decisions must out-rank the old one's), so
 * the term is taken from the wall clock in milliseconds, and never repeats within a process.
 */
import type { Coordination, Leadership } from './types.js';

export class InProcessCoordination implements Coordination {
  private lastTerm = 0;
  private current: { resign(): Promise<void> } | undefined;
  private waiters: (() => void)[] = [];

  async campaign(_candidateId: string, signal?: AbortSignal): Promise<Leadership> {
    while (this.current) {
      await new Promise<void>((resolve, reject) => {
        this.waiters.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const term = Math.max(Date.now(), this.lastTerm + 1);
    this.lastTerm = term;
    let release!: () => void;
    const lost = new Promise<void>((resolve) => {
      release = resolve;
    });
    const leadership: Leadership = {
      term,
      lost,
      resign: async () => {
        if (this.current !== leadership) return;
        this.current = undefined;
        release();
        this.waiters.shift()?.();
      },
    };
    this.current = leadership;
    return leadership;
  }

  async close(): Promise<void> {
    await this.current?.resign();
  }
}
