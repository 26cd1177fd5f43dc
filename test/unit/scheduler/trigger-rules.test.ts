import { describe, expect, it } from 'vitest';
import { evaluateTrigger, type UpstreamCounts } from '../../../src/scheduler/core/trigger-rules.js';

const c = (succeeded: number, failed: number, skipped: number, total = 3): UpstreamCounts => ({
  total,
  succeeded,
  failed,
  skipped,
});

describe('trigger rules', () => {
  it.each([
    ['all_success', c(3, 0, 0), 'run'],
    ['all_success', c(2, 0, 0), 'wait'],
    ['all_success', c(1, 1, 0), 'upstream_failed'],
    ['all_success', c(1, 0, 1), 'wait'],
    ['all_success', c(2, 0, 1), 'skip'],
    ['all_done', c(1, 1, 1), 'run'],
    ['all_done', c(1, 1, 0), 'wait'],
    ['all_failed', c(0, 3, 0), 'run'],
    ['all_failed', c(0, 2, 0), 'wait'],
    ['all_failed', c(1, 0, 0), 'skip'],
    ['one_success', c(1, 0, 0), 'run'],
    ['one_success', c(0, 2, 0), 'wait'],
    ['one_success', c(0, 2, 1), 'upstream_failed'],
    ['one_success', c(0, 0, 3), 'skip'],
    ['one_failed', c(0, 1, 0), 'run'],
    ['one_failed', c(2, 0, 0), 'wait'],
    ['one_failed', c(3, 0, 0), 'skip'],
    ['none_failed', c(2, 0, 1), 'run'],
    ['none_failed', c(2, 0, 0), 'wait'],
    ['none_failed', c(1, 1, 0), 'upstream_failed'],
  ] as const)('%s with %o → %s', (rule, counts, verdict) => {
    expect(evaluateTrigger(rule, counts)).toBe(verdict);
  });

  it('runs a task without upstream under every rule but one_failed and all_failed-with-nothing', () => {
    expect(evaluateTrigger('all_success', c(0, 0, 0, 0))).toBe('run');
    expect(evaluateTrigger('all_done', c(0, 0, 0, 0))).toBe('run');
    expect(evaluateTrigger('none_failed', c(0, 0, 0, 0))).toBe('run');
  });
});
