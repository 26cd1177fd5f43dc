/**
 * Waiting that an AbortSignal cuts short. `anySignal` stands in for `AbortSignal.any`, which on
 * Node 20 keeps a little memory on its source signals for every call (measured: ~65 bytes, never
 * reclaimed) — too much for a per-lock call against the adapter's lifelong `closing` signal.
 */

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detaches from the sources; call it when the wait is over. */
  dispose(): void;
}

/** Aborts when any of `signals` does (with its reason), until disposed. */
export function anySignal(signals: readonly (AbortSignal | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const sources = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  const detach = () => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
  };
  const listeners: [AbortSignal, () => void][] = [];
  for (const source of sources) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = () => {
      detach();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  if (controller.signal.aborted) detach();
  return { signal: controller.signal, dispose: detach };
}

/** An AbortSignal that aborts after `ms` with `reason()`, until disposed. */
export function timeoutSignal(ms: number, reason: () => unknown): LinkedSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), ms);
  return { signal: controller.signal, dispose: () => clearTimeout(timer) };
}

/** Waits `ms`, or rejects with `signal.reason` when it aborts first. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const RETRY_MS = { first: 100, max: 2_000 };

/** The delay before retry number `failures` (0-based): 100 ms doubling up to 2 s. */
export function backoff(failures: number): number {
  return Math.min(RETRY_MS.max, RETRY_MS.first * 2 ** Math.min(failures, 10));
}

/**
 * `promise`, or `signal.reason` if the signal aborts first; a result that arrives after the abort
 * is handed to `late` (e.g. to revoke a lease nobody will use).
 */
export async function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  late?: (value: T) => unknown,
): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => {
          promise.then((value) => late?.(value)).catch(() => undefined);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
