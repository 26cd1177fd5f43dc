/** Small statistics for benchmark samples: percentiles, and a median with its range over repeats. */

/** The p-quantile (0 ≤ p ≤ 1) of an ascending array, nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** A figure measured several times: the median and the range of the repeats. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function spread(samples: readonly number[]): Spread {
  const sorted = ascending(samples);
  return {
    median: percentile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    samples,
  };
}

/** Rounds to `digits` significant decimals for display (1234.5 → 1235, 2.345 → 2.35). */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return Number(value.toFixed(decimals));
}

/** `median (min–max)`, or just the value when every repeat agreed. */
export function formatSpread(s: Spread, digits = 3): string {
  const [median, min, max] = [round(s.median, digits), round(s.min, digits), round(s.max, digits)];
  return min === max ? `${median}` : `${median} (${min}–${max})`;
}

/** Milliseconds since the epoch with sub-millisecond resolution (for in-process timestamps). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
