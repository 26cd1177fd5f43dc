/**
 * Which failures are retried, and after how long. Pure: the jitter fraction comes in as an
 * argument (the leader derives it from a hash of run, task and attempt, so replays agree).
 */
import type { Failure, FailureKind } from '../../events/schemas/metadata.js';
import type { RetryPolicy } from './plan.js';

/** Retried unless a policy says otherwise. `cancelled` and `internal` never are by default. */
const defaultRetryable: ReadonlySet<FailureKind> = new Set([
  'timeout',
  'exit_code',
  'signal',
  'http_status',
  'network',
  'worker_lost',
]);

/**
 * An HTTP 4xx is the caller's fault and will fail again — except 408 (timeout) and 429 (rate
 * limited), which are worth another try. That exception holds even when `http_status` is listed.
 */
export function isRetryable(policy: RetryPolicy, failure: Failure): boolean {
  if (failure.kind === 'cancelled') return false;
  const kinds = policy.retryOn ? new Set(policy.retryOn) : defaultRetryable;
  if (!kinds.has(failure.kind)) return false;
  if (failure.kind === 'http_status' && failure.httpStatus !== undefined) {
    const s = failure.httpStatus;
    if (s >= 400 && s < 500 && s !== 408 && s !== 429) return false;
  }
  return true;
}

/**
 * Delay before the retry that follows failed try number `tries` (1-based; an attempt its worker
 * released unstarted is not a try), in ms. exponential: initial·2^(tries−1); linear:
 * initial·tries; fixed: initial — all capped at maxDelay, then jittered. `u` is a uniform
 * fraction in [0, 1).
 */
export function retryDelayMs(policy: RetryPolicy, tries: number, u: number): number {
  const base =
    policy.backoff === 'exponential'
      ? policy.initialDelayMs * 2 ** Math.min(tries - 1, 52)
      : policy.backoff === 'linear'
        ? policy.initialDelayMs * tries
        : policy.initialDelayMs;
  const capped = Math.min(base, policy.maxDelayMs);
  if (policy.jitter === 'none') return capped;
  if (policy.jitter === 'full') return Math.floor(capped * u);
  return Math.floor(capped * (1 - policy.jitter * u));
}

/** A deterministic fraction in [0, 1) from a string (FNV-1a, 32 bit): jitter without randomness. */
export function hashFraction(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}
