/**
 * Prometheus metrics of the scheduler leader's work: what it decides, how long deciding and
 * appending take, how long queued attempts wait for a worker's claim. Registered by every process
 * that can lead (`dagrun scheduler`, and `dagrun standalone` / `dagrun run` through the engine).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { RunEvent } from '../events/schemas/index.js';
import type { DecisionObserver } from '../scheduler/leader.js';

export interface SchedulerMetrics {
  readonly observer: DecisionObserver;
  /** For the dispatcher's `onClaimed`: how long an attempt waited from queued to claimed. */
  readonly claimed: (waitedMs: number) => void;
}

export function registerDecisionMetrics(registry: Registry): SchedulerMetrics {
  const decisions = new Counter({
    name: 'dagrun_scheduler_decisions_total',
    help: 'Decisions the leader appended to run streams, by event type',
    labelNames: ['type'],
    registers: [registry],
  });
  const abandoned = new Counter({
    name: 'dagrun_scheduler_abandoned_attempts_total',
    help: 'Attempts the leader closed with AttemptAbandoned, by failure kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'dagrun_scheduler_decision_conflicts_total',
    help: 'Decision appends refused for a stale run revision (the run is rebuilt and decided again)',
    registers: [registry],
  });
  const passes = new Histogram({
    name: 'dagrun_scheduler_decide_pass_seconds',
    help: 'CPU time of one decide pass over a run',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [registry],
  });
  const appends = new Histogram({
    name: 'dagrun_scheduler_decision_append_seconds',
    help: 'Latency of appending one batch of decisions (a run stream, fenced by the term)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const waits = new Histogram({
    name: 'dagrun_dispatcher_claim_wait_seconds',
    help: 'How long a queued attempt waited for a worker to claim it (queued by the leader → claimed)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  return {
    observer: {
      passed: (seconds) => passes.observe(seconds),
      appended(events: readonly RunEvent[], seconds: number) {
        appends.observe(seconds);
        // Counted per type first: a batch can queue hundreds of tasks.
        const byType = new Map<string, number>();
        for (const event of events) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
        for (const [type, n] of byType) decisions.inc({ type }, n);
      },
      abandoned: (kind) => abandoned.inc({ kind }),
      conflicted: () => conflicts.inc(),
    },
    claimed: (waitedMs) => waits.observe(waitedMs / 1000),
  };
}
