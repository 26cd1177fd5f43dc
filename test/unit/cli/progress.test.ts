/** The terminal progress of `dagrun run`: a task's line times its current attempt. */
import { describe, expect, it } from 'vitest';
import { RunProgress } from '../../../src/cli/progress.js';
import type { GlobalPosition, RecordedEvent } from '../../../src/events/types.js';
import { createPlan } from '../../../src/scheduler/core/plan.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const ref = { runId: 'r1', taskId: 'a', attempt: 1 };

/** Recorded events of one run in log order; each stream's revisions count from 0. */
function log(...events: [stream: string, type: string, data: unknown][]): RecordedEvent[] {
  const revisions = new Map<string, number>();
  return events.map(([streamName, type, data], i) => {
    const revision = revisions.get(streamName) ?? 0;
    revisions.set(streamName, revision + 1);
    return {
      id: `e${i}`,
      streamName,
      revision,
      position: String(i).padStart(4, '0') as GlobalPosition,
      type,
      data,
      metadata: { correlationId: 'c', causationId: 'c', actor: 'test' },
      createdAt: new Date(T0),
    };
  });
}

describe('run progress', () => {
  it('ends the timing of a released attempt at its release', () => {
    const plan = createPlan([
      {
        id: 'a',
        dependencies: [],
        triggerRule: 'all_success',
        retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0, jitter: 'none' },
        timeoutMs: 60_000,
      },
    ]);
    const progress = new RunProgress('r1', plan, { write: () => {}, tty: true, now: () => T0 + 60_000 });
    for (const event of log(
      ['run-r1', 'RunRequested', { runId: 'r1', dagId: 'd', dagVersion: 1, params: {}, requestedAt: iso(0) }],
      ['run-r1', 'TaskQueued', { taskId: 'a', attempt: 1, term: 1, queuedAt: iso(0) }],
      [
        'attempt-r1-a-1',
        'AttemptStarted',
        { ...ref, workerId: 'w1', startedAt: iso(100), startWithinMs: 250 },
      ],
      ['attempt-r1-a-1', 'AttemptReleased', { ...ref, releasedAt: iso(400), reason: 'no free slot' }],
    ))
      progress.apply(event);
    // Pending again, its last attempt timed from claim to release (not still counting).
    expect(progress.lines()[1]).toMatch(/^\s+· a\s+pending\s+300ms$/);
  });
});
