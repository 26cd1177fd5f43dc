/**
 * etcd watches that end with an AbortSignal, and whose cancellations the adapter can wait for on
 * close (a watcher left attached when the client closes makes etcd3 reconnect forever).
 */
import type { IEvent, IResponseHeader, IWatchResponse, Namespace } from 'etcd3';

export type WatchTarget = { readonly key: string } | { readonly prefix: string };

/** The revision after the one `header` reports: where a watch that misses nothing starts. */
export function nextRevision(header: IResponseHeader): string {
  return (BigInt(header.revision) + 1n).toString();
}

export class Watches {
  private readonly cancelling = new Set<Promise<void>>();

  constructor(readonly ns: Namespace) {}

  /**
   * Watches `target` from revision `from` and hands each event, in order, to `onEvent`; resolves
   * when `onEvent` returns true. Rejects with `signal.reason` on abort, or with the watcher's error
   * (e.g. `from` was compacted). Uses etcd3's unconnected watcher (`watcher()`) so that an abort
   * can cancel it at any point, even before it connects; etcd3 reconnects it after a broken stream
   * and resumes from the last revision it delivered.
   */
  async until(
    target: WatchTarget,
    from: string,
    signal: AbortSignal,
    onEvent: (event: IEvent) => boolean,
  ): Promise<void> {
    signal.throwIfAborted();
    const builder = this.ns.watch().startRevision(from);
    const watcher = ('key' in target ? builder.key(target.key) : builder.prefix(target.prefix)).watcher();
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.on('data', (response: IWatchResponse) => {
          for (const event of response.events) {
            if (onEvent(event)) {
              resolve();
              return;
            }
          }
        });
        watcher.once('error', reject);
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      watcher.removeAllListeners('data');
      // A watcher that errs again while it is being cancelled must not crash the process.
      watcher.on('error', () => undefined);
      // Not awaited here: the waiter must not wait for etcd's answer. `settle` awaits it on close.
      const cancel = watcher.cancel().catch(() => undefined);
      this.cancelling.add(cancel);
      cancel.finally(() => this.cancelling.delete(cancel)).catch(() => undefined);
    }
  }

  /** Waits for the watchers cancelled so far to be detached (bounded by `timeoutMs`). */
  async settle(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.cancelling]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }
}
