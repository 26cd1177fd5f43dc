import { describe, expect, it } from 'vitest';
import { hashFraction, retryDelayMs } from '../../../src/scheduler/core/retry-policy.js';
import { noRetry } from './fixtures.js';

const policy = { ...noRetry, maxAttempts: 10, initialDelayMs: 1000, maxDelayMs: 10_000 };

describe('retry delays', () => {
  it('grows exponentially, linearly or not at all, capped at maxDelay', () => {
    const none = { ...policy, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs({ ...none, backoff: 'exponential' }, n, 0.5))).toEqual([
      1000, 2000, 4000, 8000, 10_000,
    ]);
    expect([1, 2, 3].map((n) => retryDelayMs({ ...none, backoff: 'linear' }, n, 0.5))).toEqual([
      1000, 2000, 3000,
    ]);
    expect([1, 5].map((n) => retryDelayMs({ ...none, backoff: 'fixed' }, n, 0.5))).toEqual([1000, 1000]);
  });

  it('applies full jitter as a uniform fraction of the capped delay', () => {
    expect(retryDelayMs({ ...policy, jitter: 'full' }, 3, 0.25)).toBe(1000);
    expect(retryDelayMs({ ...policy, jitter: 'full' }, 50, 0.5)).toBe(5000);
    expect(retryDelayMs({ ...policy, jitter: 0.2 }, 1, 0.5)).toBe(900);
  });

  it('derives jitter fractions deterministically, spread over [0, 1)', () => {
    expect(hashFraction('r/t/1')).toBe(hashFraction('r/t/1'));
    const values = Array.from({ length: 1000 }, (_, i) => hashFraction(`run/task/${i}`));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});
