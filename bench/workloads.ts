/**
 * The workloads every system runs, and the concurrency budget they share. One definition, so
 * dagrun and its peers cannot drift apart: the same task counts, the same shapes, the same
 * number of jobs in flight at once.
 */

/** Jobs in flight at once, for every system: dagrun's 2 workers × 8 slots (its defaults). */
export const BUDGET = { workers: 2, slotsPerWorker: 8 } as const;
export const SLOTS = BUDGET.workers * BUDGET.slotsPerWorker;

export const THROUGHPUT_TASKS = 10_000;
export const CHAIN_LENGTH = 300;
export const FAN_WIDTH = 1_000;

/**
 * A few long tasks among many short ones, on 4 workers × 2 slots. Task `i` is long when
 * `i % workers === 0 && i < long * workers`: one decision queues all of them at once, and
 * least-loaded placement deals them round-robin, so every long task lands on the same worker.
 */
export const SKEW = {
  workers: 4,
  slotsPerWorker: 2,
  long: 8,
  longMs: 2_000,
  short: 400,
  shortMs: 10,
} as const;

export function isLongSkewTask(index: number): boolean {
  return index % SKEW.workers === 0 && index < SKEW.long * SKEW.workers;
}

/** The sleep of skewed task `index`, in ms. */
export function skewDurations(): number[] {
  return Array.from({ length: SKEW.long + SKEW.short }, (_, i) =>
    isLongSkewTask(i) ? SKEW.longMs : SKEW.shortMs,
  );
}

/** The best makespan any scheduler could reach: total work over the slots, or the longest task. */
export function skewLowerBoundMs(): number {
  const slots = SKEW.workers * SKEW.slotsPerWorker;
  const total = SKEW.long * SKEW.longMs + SKEW.short * SKEW.shortMs;
  return Math.max(SKEW.longMs, total / slots);
}

/** Brackets the timed section of a scenario, for the resource meter (bench/support/resources.ts). */
export interface Meter {
  /** Called when the system is set up, right before the clock starts. */
  start(): Promise<void>;
  /** Called right after the clock stops, before the system shuts down. */
  stop(): Promise<void>;
}

export const NO_METER: Meter = { start: async () => {}, stop: async () => {} };

export interface ThroughputResult {
  readonly tasks: number;
  readonly seconds: number;
  readonly tasksPerSecond: number;
}

export interface ChainResult {
  readonly hops: number;
  /** previous finished → next started, ms, ascending. */
  readonly hopMs: readonly number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly seconds: number;
}

export interface FanResult {
  readonly tasks: number;
  readonly seconds: number;
}

export interface SkewResult {
  readonly seconds: number;
  /** Free-form facts: where the long tasks ran, how many were stolen, … */
  readonly note: string;
}
