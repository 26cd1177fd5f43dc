/**
 * Trigger rules decide, from counts of upstream outcomes, whether a pending task runs, is
 * skipped, fails because of its upstream, or keeps waiting. Counts only grow while a task
 * waits, and every early verdict is the one the final counts would give too — so the outcome
 * never depends on the order in which upstream tasks finish (a property test checks it). Counts make each check O(1), so a
 * fan-in of 1,000 tasks costs nothing per upstream completion (pg-boss's pending_dependencies idea).
 */
import type { TriggerRule } from './plan.js';

/** Upstream outcomes so far. `failed` counts dead-lettered, upstream-failed and cancelled tasks. */
export interface UpstreamCounts {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
}

export type TriggerVerdict = 'wait' | 'run' | 'skip' | 'upstream_failed';

export function evaluateTrigger(rule: TriggerRule, c: UpstreamCounts): TriggerVerdict {
  const done = c.succeeded + c.failed + c.skipped;
  const allDone = done === c.total;
  switch (rule) {
    case 'all_success':
      // Failure wins over skip, so a skip waits for every upstream: deciding on the first skipped
      // upstream would make the verdict depend on the order in which upstreams finish.
      if (c.failed > 0) return 'upstream_failed';
      if (!allDone) return 'wait';
      return c.skipped > 0 ? 'skip' : 'run';
    case 'all_done':
      return allDone ? 'run' : 'wait';
    case 'all_failed':
      if (c.succeeded > 0 || c.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'one_success':
      if (c.succeeded > 0) return 'run';
      if (!allDone) return 'wait';
      return c.failed > 0 ? 'upstream_failed' : 'skip';
    case 'one_failed':
      if (c.failed > 0) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'none_failed':
      if (c.failed > 0) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    default:
      return assertNever(rule);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown trigger rule ${String(value)}`);
}
