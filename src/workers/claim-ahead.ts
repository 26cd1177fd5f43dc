/**
 * Claim-ahead: how many attempts a worker may claim beyond its free slots.
 *
 * A claim is a commit, and a slot that waits for its claim's commit runs nothing meanwhile: with
 * tasks shorter than a commit round (a few ms), the slots spend most of their time waiting, and
 * throughput is slots ÷ round, not what the CPU allows. Claiming a few attempts ahead hides the
 * round — while one attempt runs, the next one's claim is committing — the way graphile-worker's
 * local queue fetches and locks jobs ahead of its concurrency.
 *
 * A claimed attempt's clock runs from its claim (`startedAt`), so one that waits for a slot must
 * not wait long: it starts within `startWithinMs` or is handed back unstarted (AttemptReleased,
 * which is not a try). The bound is on the wait for a slot: a claim whose commit itself was slow
 * (a database hiccup) still starts at once when a slot is free — releasing it would only add
 * appends while the database struggles — and that lateness is what the leader's
 * `abandonGraceMs` covers, as for every claim. To keep that rare, a worker claims ahead only while its attempts are short:
 * the recent ones took under `shortTaskMs` on average, and none of those running now has run
 * longer than that. A worker running long tasks claims exactly its free slots, as without
 * claim-ahead, so claimed attempts never sit behind them and work stealing is not undermined.
 */

export interface ClaimAheadSettings {
  /** Most attempts claimed beyond the free slots; 0 turns claim-ahead off. */
  readonly depth: number;
  /** Claim ahead only while attempts take less than this (ms). */
  readonly shortTaskMs?: number;
  /** A claimed attempt starts within this many ms of its claim, or is released (ms). */
  readonly startWithinMs?: number;
}

/** The defaults: a "short" task is shorter than ~10 commit rounds; a start bound 20× that. */
export const SHORT_TASK_MS = 50;
export const START_WITHIN_MS = 1_000;

/**
 * The default depth, per slot. Enough claims must be in flight to cover a commit round at the
 * rate the slots can run short tasks: on the 10,000-noop benchmark (2 workers × 8 slots) noop
 * throughput rose with the depth up to about three claims per slot and stayed flat beyond
 * (1× 4,700, 2× 5,000, 3× 5,700, 4× 5,500, 6× 5,650 tasks/s). Celery's prefetch multiplier,
 * the same idea, defaults to 4. Waiting claims stay far inside the start bound: 24 claims
 * behind 8 slots of tasks under 50 ms wait at most ~150 ms.
 */
export const CLAIM_AHEAD_PER_SLOT = 3;

/** Weight of the newest duration in the moving average. */
const ALPHA = 0.2;

export class ClaimAhead {
  readonly depth: number;
  readonly shortTaskMs: number;
  readonly startWithinMs: number;
  /** Moving average of recent execution times (ms); undefined until one has finished. */
  private average: number | undefined;

  constructor(settings: ClaimAheadSettings) {
    this.depth = settings.depth;
    this.shortTaskMs = settings.shortTaskMs ?? SHORT_TASK_MS;
    this.startWithinMs = settings.startWithinMs ?? START_WITHIN_MS;
  }

  get enabled(): boolean {
    return this.depth > 0;
  }

  /** Learns how long an attempt executed. */
  executed(durationMs: number): void {
    this.average =
      this.average === undefined ? durationMs : this.average + ALPHA * (durationMs - this.average);
  }

  /**
   * How many attempts may be claimed beyond the free slots now, given when the attempts running
   * now started (performance.now() ms).
   */
  allowance(runningSince: Iterable<number>, now: number): number {
    if (this.depth === 0 || this.average === undefined || this.average >= this.shortTaskMs) return 0;
    for (const since of runningSince) if (now - since >= this.shortTaskMs) return 0;
    return this.depth;
  }
}
