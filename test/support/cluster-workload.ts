/** Workloads for the cluster tests: DAGs of real shell tasks, registered and run through commands. */
import { randomUUID } from 'node:crypto';
import { registerDag, requestRun } from '../../src/commands/index.js';
import { parseDagOrThrow } from '../../src/dag/index.js';
import { streams } from '../../src/events/schemas/index.js';
import type { EventStore } from '../../src/events/types.js';
import { isTerminal } from '../../src/scheduler/core/state.js';
import { DagVersions, loadRun } from '../../src/scheduler/run-loader.js';

const meta = { correlationId: 'cluster-test', actor: 'test' };

export interface WorkloadOptions {
  /** Parallel shell tasks per run. */
  readonly tasks?: number;
  /** How long each sleeps (seconds). */
  readonly sleep?: number;
  /** Add a task that always fails (dead-lettered after 2 attempts) and an all_done join after it. */
  readonly failing?: boolean;
  /** Labels every task requires. */
  readonly labels?: readonly string[];
}

/** A DAG: `work-1..n` (retried up to 4 times, e.g. when their worker is lost) and a join. */
export function workloadYaml(name: string, options: WorkloadOptions = {}): string {
  const n = options.tasks ?? 12;
  const sleep = options.sleep ?? 0.4;
  const labels = options.labels?.length ? `, labels: [${options.labels.join(', ')}]` : '';
  const retry = 'retry: { maxAttempts: 4, backoff: fixed, initialDelay: 100ms }';
  const lines = [`name: ${name}`, 'tasks:'];
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    ids.push(`work-${i}`);
    lines.push(`  - { id: work-${i}, type: shell, command: "sleep ${sleep}; echo ${i}", ${retry}${labels} }`);
  }
  if (options.failing) {
    ids.push('always-fails');
    lines.push(
      `  - { id: always-fails, type: shell, command: "exit 3", retry: { maxAttempts: 2, backoff: fixed, initialDelay: 100ms }${labels} }`,
    );
  }
  lines.push(
    `  - { id: join, type: noop, triggerRule: all_done, dependencies: [${ids.join(', ')}]${labels} }`,
  );
  return `${lines.join('\n')}\n`;
}

/** Registers the workload's DAG and requests `runs` runs; returns their ids. */
export async function startWorkload(
  store: EventStore,
  runs: number,
  options: WorkloadOptions = {},
): Promise<string[]> {
  const name = `cluster-${randomUUID().slice(0, 8)}`;
  const dag = parseDagOrThrow(workloadYaml(name, options));
  await registerDag({ store, metadata: meta }, dag);
  const ids: string[] = [];
  for (let i = 0; i < runs; i++)
    ids.push((await requestRun({ store, metadata: meta }, { dagId: dag.name })).runId);
  return ids;
}

const FINAL = new Set(['RunSucceeded', 'RunFailed', 'RunCancelled']);

/** Waits until every run has a final event. */
export async function waitForRuns(
  store: EventStore,
  runIds: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const open = new Set(runIds);
  while (open.size > 0) {
    for (const runId of [...open]) {
      const events = await store.readStream(streams.run(runId));
      if (events.some((e) => FINAL.has(e.type))) open.delete(runId);
    }
    if (open.size === 0) return;
    if (Date.now() > deadline)
      throw new Error(`runs not finished in ${timeoutMs} ms:\n${await describeRuns(store, [...open])}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until at least `count` attempts of these runs have been claimed. */
export async function waitForClaims(
  store: EventStore,
  runIds: readonly string[],
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  const runs = new Set(runIds);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let claimed = 0;
    for (let after: Awaited<ReturnType<EventStore['readAll']>>[number]['position'] | undefined; ; ) {
      const page = await store.readAll({ after, maxCount: 5000, streamPrefixes: ['attempt-'] });
      if (page.length === 0) break;
      claimed += page.filter(
        (e) => e.type === 'AttemptStarted' && runs.has((e.data as { runId: string }).runId),
      ).length;
      after = page[page.length - 1]?.position;
    }
    if (claimed >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${claimed} of ${count} claims after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Where unfinished runs stand: every task that has not ended, with its attempt and worker. */
async function describeRuns(store: EventStore, runIds: readonly string[]): Promise<string> {
  const dags = new DagVersions(store);
  const lines: string[] = [];
  for (const runId of runIds) {
    const loaded = await loadRun(store, dags, runId);
    if (!loaded) {
      lines.push(`${runId}: no such run`);
      continue;
    }
    lines.push(`${runId}: ${loaded.state.status}`);
    for (const [taskId, task] of loaded.state.tasks) {
      if (isTerminal(task.status)) continue;
      const stream = await store.readStream(streams.attempt(runId, taskId, task.attempt));
      lines.push(
        `  ${taskId}: ${task.status} attempt ${task.attempt} worker ${task.workerId ?? '-'} [${stream.map((e) => e.type).join(', ')}]`,
      );
    }
  }
  return lines.join('\n');
}
