/**
 * Folds the whole event log of a cluster test and reports every broken promise:
 * - every requested run finished (succeeded, failed or cancelled) and every task of it ended;
 * - no task was lost: each queued attempt was claimed or closed, each claimed one has one closing
 *   event (an outcome, or a release: closed without having run);
 * - no attempt number was queued twice, and no two attempts of one task overlap in time;
 * - a task was dead-lettered exactly where its tries ran out (or its failure is not retried),
 *   and no retry was scheduled past the last try — released attempts are numbered but are not
 *   tries;
 * - decisions never go back to an older term in the log's order (a deposed leader appended
 *   nothing after its successor).
 */
import type { NormalizedTask } from '../../src/dag/index.js';
import type { EventStore, RecordedEvent } from '../../src/events/types.js';
import { isRunFinished, isTerminal } from '../../src/scheduler/core/state.js';
import { DagVersions, loadRun } from '../../src/scheduler/run-loader.js';

export interface HistoryReport {
  readonly runs: number;
  readonly attempts: number;
  readonly deadLettered: number;
  readonly terms: number[];
  readonly violations: string[];
}

interface AttemptHistory {
  readonly events: RecordedEvent[];
}

export async function checkHistory(store: EventStore): Promise<HistoryReport> {
  const all: RecordedEvent[] = [];
  for (let after: RecordedEvent['position'] | undefined; ; ) {
    const page = await store.readAll({ after, maxCount: 5000 });
    if (page.length === 0) break;
    all.push(...page);
    after = page[page.length - 1]?.position;
  }
  const violations: string[] = [];
  const runs = new Map<string, RecordedEvent[]>();
  const attempts = new Map<string, AttemptHistory>();
  const terms = new Set<number>();
  let highestTerm = 0;
  for (const event of all) {
    if (event.streamName.startsWith('run-')) {
      const runId = event.streamName.slice(4);
      const list = runs.get(runId) ?? [];
      list.push(event);
      runs.set(runId, list);
    } else if (event.streamName.startsWith('attempt-')) {
      const entry = attempts.get(event.streamName) ?? { events: [] };
      entry.events.push(event);
      attempts.set(event.streamName, entry);
    }
    const term = (event.data as { term?: unknown }).term;
    if (typeof term === 'number' && event.metadata.actor.startsWith('scheduler:')) {
      terms.add(term);
      if (term < highestTerm)
        violations.push(
          `${event.streamName}@${event.revision} ${event.type}: decided under term ${term} after term ${highestTerm} had decided`,
        );
      highestTerm = Math.max(highestTerm, term);
    }
  }

  const dags = new DagVersions(store);
  let deadLettered = 0;
  for (const [runId, events] of runs) {
    const requested = events.find((e) => e.type === 'RunRequested');
    if (!requested) {
      violations.push(`run ${runId}: no RunRequested`);
      continue;
    }
    const loaded = await loadRun(store, dags, runId);
    if (!loaded) continue;
    const { state, version } = loaded;
    if (!isRunFinished(state.status)) violations.push(`run ${runId}: not finished (${state.status})`);
    for (const [taskId, task] of state.tasks) {
      if (!isTerminal(task.status) && isRunFinished(state.status))
        violations.push(`run ${runId} task ${taskId}: ${task.status} in a finished run`);
    }
    const queued = new Map<string, number[]>();
    for (const e of events) {
      if (e.type !== 'TaskQueued') continue;
      const { taskId, attempt } = e.data as { taskId: string; attempt: number };
      const list = queued.get(taskId) ?? [];
      if (list.includes(attempt))
        violations.push(`run ${runId} task ${taskId}: attempt ${attempt} queued twice`);
      list.push(attempt);
      queued.set(taskId, list);
    }
    for (const [taskId, numbers] of queued) {
      const spec = version.tasks.get(taskId) as NormalizedTask;
      /** Attempt numbers of this task closed by a release. */
      const released: number[] = [];
      let previousEnd: number | undefined;
      for (const n of [...numbers].sort((a, b) => a - b)) {
        const stream = `attempt-${runId}-${taskId}-${n}`;
        const history = attempts.get(stream)?.events ?? [];
        const started = history.find((e) => e.type === 'AttemptStarted');
        const outcomes = history.filter((e) => e.type !== 'AttemptStarted');
        if (outcomes.length > 1) violations.push(`${stream}: ${outcomes.length} outcomes`);
        if (isRunFinished(state.status) && started && outcomes.length === 0)
          violations.push(`${stream}: claimed but never closed in a finished run`);
        if (!started) continue;
        const start = Date.parse((started.data as { startedAt: string }).startedAt);
        if (previousEnd !== undefined && start < previousEnd)
          violations.push(`${stream}: started ${previousEnd - start} ms before attempt ${n - 1} ended`);
        const outcome = outcomes[0];
        if (outcome) {
          if (outcome.type === 'AttemptReleased') released.push(n);
          const data = outcome.data as { finishedAt?: string; abandonedAt?: string; releasedAt?: string };
          previousEnd = Date.parse(data.finishedAt ?? data.abandonedAt ?? data.releasedAt ?? '');
        }
      }
      /** Tries up to and including attempt `n`. */
      const triesAt = (n: number) => n - released.filter((r) => r <= n).length;
      for (const e of events) {
        const data = e.data as { taskId?: string; attempt?: number; failure?: { kind: string } };
        if (data.taskId !== taskId) continue;
        if (e.type === 'TaskDeadLettered') {
          deadLettered++;
          const retried = spec.retry.retryOn.includes(data.failure?.kind as never);
          const tries = triesAt(data.attempt ?? 0);
          if (retried && tries !== spec.retry.maxAttempts)
            violations.push(
              `run ${runId} task ${taskId}: dead-lettered after try ${tries} of ${spec.retry.maxAttempts} (attempt ${data.attempt}) on a retried ${data.failure?.kind}`,
            );
        }
        if (e.type === 'TaskRetryScheduled' && triesAt(data.attempt ?? 0) >= spec.retry.maxAttempts)
          violations.push(
            `run ${runId} task ${taskId}: a retry scheduled after the last try (attempt ${data.attempt})`,
          );
      }
    }
  }
  return {
    runs: runs.size,
    attempts: attempts.size,
    deadLettered,
    terms: [...terms].sort((a, b) => a - b),
    violations,
  };
}
