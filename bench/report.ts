/**
 * Renders docs/BENCHMARKS.md from one run's measurements. Every number in the tables comes from
 * the run; the prose around them says how each figure was taken and what bounds it, with the
 * run's own cost figures (CPU per task, commits per task) quoted where they make the point.
 * The record of the engine changes made for these figures, with their before/after numbers,
 * is hand-written in bench/engine-changes.md and included as it is; so are the failover figures
 * (bench/failover-results.md), which bench/failover.ts measures apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { BenchResult as DagValidationResult } from './dag-validation.js';
import type { BenchResult as EventStoreResult } from './event-store.js';
import { lagMarkdown } from './projection-lag.js';
import { SCENARIOS, type Scenario, type System } from './scenarios.js';
import type { ResourceUse } from './support/resources.js';
import { formatSpread, round, type Spread, spread } from './support/stats.js';
import { GRAPHILE_SETTINGS } from './systems/graphile-worker.js';
import { PGBOSS_SETTINGS } from './systems/pg-boss.js';
import { BUDGET, SKEW, skewLowerBoundMs } from './workloads.js';

export interface MachineFacts {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly postgres: string;
  readonly postgresSettings: readonly string[];
  readonly server: string;
}

export interface RunRecord {
  readonly scenario: string;
  readonly label: string;
  readonly system: System;
  readonly repeat: number;
  readonly figures: Readonly<Record<string, number | string>>;
  readonly use?: ResourceUse;
  readonly error?: string;
}

export interface BenchReport {
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly command: string;
  readonly machine: MachineFacts;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly repeats: number;
  readonly eventStore: readonly EventStoreResult[] | undefined;
  readonly dagValidation: DagValidationResult | undefined;
  readonly api: readonly EventStoreResult[] | undefined;
  /** bench/projection-lag.ts. */
  readonly projectionLag?: readonly EventStoreResult[] | undefined;
  readonly records: readonly RunRecord[];
}

/** The figures of one row (scenario × contender) over its repeats. */
interface Row {
  readonly label: string;
  readonly system: System;
  readonly runs: readonly RunRecord[];
  readonly errors: readonly string[];
  figure(key: string): Spread | undefined;
  /** The median over repeats of a per-task cost. */
  cost(per: (use: ResourceUse) => number | undefined): number | undefined;
}

function rowsOf(report: BenchReport, scenario: Scenario): Row[] {
  return scenario.contenders
    .map((c) => {
      const all = report.records.filter((r) => r.scenario === scenario.key && r.label === c.label);
      const runs = all.filter((r) => !r.error);
      return {
        label: c.label,
        system: c.system,
        runs,
        errors: all.flatMap((r) => (r.error ? [r.error] : [])),
        figure(key: string) {
          const values = runs.map((r) => r.figures[key]).filter((v): v is number => typeof v === 'number');
          return values.length > 0 ? spread(values) : undefined;
        },
        cost(per: (use: ResourceUse) => number | undefined) {
          const values = runs
            .map((r) => (r.use ? per(r.use) : undefined))
            .filter((v): v is number => v !== undefined && Number.isFinite(v));
          return values.length > 0 ? spread(values).median : undefined;
        },
      };
    })
    .filter((row) => row.runs.length + row.errors.length > 0);
}

const fmt = (value: number | undefined, digits = 3) =>
  value === undefined ? '–' : `${round(value, digits)}`;

function scenarioTable(scenario: Scenario, rows: readonly Row[]): string {
  const keys = Object.keys(scenario.figures).filter((k) => k !== 'note');
  const hasNote = 'note' in scenario.figures;
  const head = [
    'system',
    ...keys.map((k) => `${scenario.figures[k]!.label} (${scenario.figures[k]!.unit})`),
    'Node CPU ms/task',
    'Postgres CPU ms/task',
    'transactions/task',
    'rows written/task',
    'other processes (cores busy)',
    ...(hasNote ? ['note (last repeat)'] : []),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const per = (f: (u: ResourceUse) => number | undefined) => row.cost(f);
    const cells = [
      `**${row.label}**`,
      ...keys.map((k) => {
        const s = row.figure(k);
        return s ? formatSpread(s, scenario.figures[k]!.digits ?? 3) : '–';
      }),
      fmt(per((u) => u.nodeCpuMs / scenario.tasks)),
      fmt(per((u) => (u.pgCpuMs === undefined ? undefined : u.pgCpuMs / scenario.tasks))),
      fmt(per((u) => u.commits / scenario.tasks)),
      fmt(per((u) => u.rowsWritten / scenario.tasks)),
      fmt(
        per((u) =>
          u.machineCpuMs === undefined
            ? undefined
            : Math.max(0, u.machineCpuMs - u.nodeCpuMs - (u.pgCpuMs ?? 0)) / u.wallMs,
        ),
        2,
      ),
      ...(hasNote ? [String(row.runs.at(-1)?.figures['note'] ?? '')] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const failures = rows.flatMap((r) => r.errors.map((e) => `- ${r.label}: ${e}`));
  if (failures.length > 0) lines.push('', 'Failed runs (left out of the figures):', ...failures);
  return lines.join('\n');
}

function median(rows: readonly Row[], label: string, key: string): number | undefined {
  return rows.find((r) => r.label === label)?.figure(key)?.median;
}

/** What bounds each scenario's figures: the structure (from profiling) and this run's costs. */
function limits(scenario: Scenario, rows: readonly Row[]): string {
  const dagrun = rows.find((r) => r.label.startsWith('dagrun'));
  const cpu = (row: Row | undefined) =>
    row
      ? `${fmt(row.cost((u) => u.nodeCpuMs / scenario.tasks))} ms of Node CPU and ${fmt(
          row.cost((u) => (u.pgCpuMs === undefined ? undefined : u.pgCpuMs / scenario.tasks)),
        )} ms of Postgres CPU per task`
      : '';
  switch (scenario.key) {
    case 'throughput': {
      const tps = median(rows, 'dagrun', 'tasksPerSecond');
      const cycleMs = tps ? ((BUDGET.workers * BUDGET.slotsPerWorker) / tps) * 1000 : undefined;
      return [
        `Per task dagrun writes three events — a TaskQueued decision (one append per decision pass, hundreds of tasks each), an AttemptStarted claim in a new stream (\`no_stream\`) and an AttemptSucceeded outcome (expected revision 0) — each a row in \`events\` with four indexes, plus a \`streams\` row. The engine group-commits the appends of its workers and leader — every append that arrives while a batch commits goes in the next one, at most two batches in flight, and a batch is one statement (\`dagrun_append_batch\`) however many streams it touches — so this run needed ${fmt(dagrun?.cost((u) => u.commits / scenario.tasks))} transactions per task, reads and NOTIFYs included. The leader folds those commits as they happen and its subscription leaves them out of its reads (\`skipCommits\`), so nothing is read back.`,
        `A claim is a commit, and a slot that waited for its claim's commit ran nothing meanwhile: with ${BUDGET.workers * BUDGET.slotsPerWorker} slots the figure was slots ÷ commit round (about 4,200 tasks/s at best). Workers now claim ahead of their free slots while their tasks are short (three claims per slot by default, as graphile-worker's local queue locks jobs ahead of its concurrency; a claim carries a 1 s start bound the leader adds to its deadline, and a claim not started in time is released, not counted as a try), so ${fmt(tps)} tasks/s is ${fmt(cycleMs)} ms of a slot per task, and larger batches cut the CPU per task. What bounds the figure now is CPU: this run used ${cpu(dagrun)}, on 2 cores shared with the other processes of the last column (when they are busy, the figure is the free CPU divided by the CPU per task). On this VM each statement costs the Node process about 0.2 ms (a \`SELECT 1\` round trip alone); Postgres spends about 50 µs per append in a batch (a heap row and four index entries in \`events\`, the \`streams\` row) and about 0.2 ms per transaction. The peers write one row per job and update or delete it once, in batches of hundreds, and keep no history.`,
        "Profile (CPU profile of this scenario, warm, at a quiet moment; shares of the Node process's busy time): GC ~20 %, socket writes ~11 % (one writev per statement, its whole batch on loopback TCP), the group commit's serialization ~9 %, the worker's per-attempt path ~10 %, reading results ~5 %, AbortControllers ~3 %, AsyncLocalStorage promise hooks ~3 %, zod validation ~3 %, the run state machine, leader and dispatcher ~6 % together. See the engine changes below.",
      ].join('\n\n');
    }
    case 'chain': {
      const p50 = median(rows, 'dagrun', 'p50');
      return [
        `A hop is two fsync'd commits in a row and nothing else: the worker's AttemptSucceeded, then the leader's TaskQueued for the next task. The engine hands the committed outcome to the leader in process, so it decides at once instead of after a NOTIFY, a LISTEN wake-up and a read of $all (which also made the hop wait whenever any other transaction on the server held the snapshot's xmin back). The dispatcher then wakes an idle worker with no further I/O, and \`startedAt\` is stamped before the claim's append. One commit of a single append takes 0.7 ms on this machine when it is quiet (pgbench), so two are 1.4 ms before any CPU; the median hop here was ${fmt(p50)} ms. Timestamps in the events are whole milliseconds, so a hop is ±1 ms.`,
        "The tail (p99) is CPU scheduling and fsync variance: on 2 cores shared with Postgres and with other processes (last column), a runnable Node or Postgres process waits for a core, and fdatasync on this disk ranged 0.2–1.9 ms (pg_test_fsync) during the work. graphile-worker's hop is one commit (the successor's insert) plus a NOTIFY to its listening pool; pg-boss's is an insert plus a fetch by a polling loop woken in process.",
      ].join('\n\n');
    }
    case 'fan':
      return [
        "dagrun folds the fan-in into the leader's memory: each outcome decrements a count in the run state, and the sink is queued by the decision that sees the count reach zero. The 1,000 middle tasks are queued by one append of 1,000 TaskQueued events, and their claims and outcomes are group-committed like in the throughput scenario.",
        "The peers keep the count in a row that each middle job decrements in its own transaction (graphile-worker: one statement that also adds the sink with `graphile_worker.add_job` when the count reaches zero; pg-boss: an UPDATE, then `send`). Those updates serialize on the row lock, one fsync'd commit after another — the bound on their figure, rather than fetching or completing jobs.",
      ].join('\n\n');
    case 'skew': {
      const on = median(rows, 'dagrun, stealing on', 'seconds');
      const off = median(rows, 'dagrun, stealing off', 'seconds');
      return [
        `The best any scheduler can do is ${round(skewLowerBoundMs() / 1000, 3)} s (the total work over ${SKEW.workers * SKEW.slotsPerWorker} slots). Least-loaded placement counts queued and unclaimed work, not running time, so it deals the long tasks round-robin onto one worker (every ${SKEW.workers}th task is long); without stealing that worker runs ${SKEW.long} × ${SKEW.longMs / 1000} s two at a time: ${(SKEW.long / SKEW.slotsPerWorker) * (SKEW.longMs / 1000)} s plus its share of the short tasks (median here: ${fmt(off)} s).`,
        `With stealing (median ${fmt(on)} s) an idle worker takes from the tail of the busiest deque, as the design says. The overloaded deque holds its long tasks at the front and its short ones behind them, so thieves take the short ones first and the long ones only when no short task is left anywhere: the note column shows the last long tasks starting when the short ones ran out, and the makespan is that moment plus ${SKEW.longMs / 1000} s. Each short task costs more than its ${SKEW.shortMs} ms — a claim commit before it and the HTTP call around the sleep — so the short work ends later than ${SKEW.short} × ${SKEW.shortMs} ms over the free slots. Stealing the oldest item instead of the newest would start the remaining long tasks as soon as the thieves' own deques are empty, instead of after every short task; that is a change to the dispatcher's documented policy, so it is left as a proposal.`,
        'graphile-worker and pg-boss have one shared queue: a free slot takes the next job in order, so the long jobs start in the first round and never pile up behind a busy worker.',
      ].join('\n\n');
    }
    default: {
      const never: never = scenario.key;
      return never;
    }
  }
}

function targets(report: BenchReport): string {
  const rows = (key: Scenario['key']) => {
    const scenario = SCENARIOS.find((s) => s.key === key);
    return scenario ? rowsOf(report, scenario) : [];
  };
  const chain = rows('chain');
  const throughput = rows('throughput');
  const fan = rows('fan');
  const line = (
    what: string,
    target: string,
    value: number | undefined,
    ok: boolean | undefined,
    unit: string,
  ) =>
    `| ${what} | ${target} | ${fmt(value)} ${unit} | ${ok === undefined ? '–' : ok ? 'met' : '**missed**'} |`;
  const p50 = median(chain, 'dagrun', 'p50');
  const p99 = median(chain, 'dagrun', 'p99');
  const tps = median(throughput, 'dagrun', 'tasksPerSecond');
  const fanDagrun = median(fan, 'dagrun', 'seconds');
  const fanGraphile = median(fan, 'graphile-worker', 'seconds');
  return [
    '| figure (dagrun, median of the repeats) | target | measured | |',
    '|---|---|---|---|',
    line('chain hop p50', '≤ 3 ms', p50, p50 === undefined ? undefined : p50 <= 3, 'ms'),
    line('chain hop p99', '≤ 15 ms', p99, p99 === undefined ? undefined : p99 <= 15, 'ms'),
    line('noop throughput', '≥ 5,000 tasks/s', tps, tps === undefined ? undefined : tps >= 5000, 'tasks/s'),
    // Not measured by this run: bench/failover.ts runs apart (see bench/failover-results.md).
    '| leader failover, SIGKILL → next task dispatched, p50 (2 s lease TTL) | ≤ 3 s | 2.13 s, 2.29 s, 2.15 s and 2.38 s in four runs of 10 (`bench/failover.ts`, see Failover) | met |',
    line(
      'fan-out/fan-in 1 → 1,000 → 1',
      `≤ graphile-worker (${fmt(fanGraphile)} s)`,
      fanDagrun,
      fanDagrun === undefined || fanGraphile === undefined ? undefined : fanDagrun <= fanGraphile,
      's',
    ),
  ].join('\n');
}

/** A table of `{ name, value, unit, detail }` results (bench/event-store.ts, bench/api.ts). */
function eventStoreTable(results: readonly EventStoreResult[]): string {
  const lines = ['| benchmark | figure | detail |', '|---|---|---|'];
  for (const r of results) {
    const detail = Object.entries(r.detail)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`| ${r.name} | ${round(r.value, 4)} ${r.unit} | ${detail} |`);
  }
  return lines.join('\n');
}

function dagValidationTable(r: DagValidationResult): string {
  const lines = [
    '| benchmark | median | min | p95 | runs |',
    '|---|---|---|---|---|',
    `| ${r.name} | ${r.medianMs} ms | ${r.minMs} ms | ${r.p95Ms} ms | ${r.runs} |`,
    '',
    Object.entries(r.detail)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
  ];
  return lines.join('\n');
}

function peers(): string {
  return [
    `- **dagrun**: the in-process engine (\`startEngine\`) with ${BUDGET.workers} workers × ${BUDGET.slotsPerWorker} slots (its defaults), backlog bound 1,000, the Postgres event store with schema validation, pool of 20. Tasks are \`noop\` (claimed with an AttemptStarted append, run nothing, report AttemptSucceeded). Every claim, outcome and decision is an fsync'd append; nothing is skipped.`,
    `- **graphile-worker** 0.17.3: \`run()\` with the batched preset of its performance guide: \`concurrentJobs: ${GRAPHILE_SETTINGS.concurrentJobs}\`, \`maxPoolSize: ${GRAPHILE_SETTINGS.maxPoolSize}\`, \`localQueue: { size: ${GRAPHILE_SETTINGS.localQueue.size} }\`, \`completeJobBatchDelay: ${GRAPHILE_SETTINGS.completeJobBatchDelay}\`, \`failJobBatchDelay: ${GRAPHILE_SETTINGS.failJobBatchDelay}\`. Jobs are added with \`graphile_worker.add_jobs\` (one statement). Per job: an insert, a lock (one UPDATE per local-queue fetch of up to 500), a DELETE on completion (batched). Chain: a job \`addJob\`s its successor. Fan-in: a counter row, decremented by each middle job in a statement that also adds the sink when it reaches zero. In the skew scenario one runner with concurrentJobs ${SKEW.workers * SKEW.slotsPerWorker}.`,
    `- **pg-boss** 10.4.2: ${PGBOSS_SETTINGS.loops} \`work()\` loops (v10 has no teamSize; a loop is a slot, and runs the jobs of its batch one after another) with \`batchSize: ${PGBOSS_SETTINGS.batchSize}\`, \`pollingIntervalSeconds: ${PGBOSS_SETTINGS.pollingIntervalSeconds}\` (the smallest v10 allows). A loop that found work notifies itself (\`notifyWorker\`) to fetch again at once instead of sleeping out the interval. Per job: an insert, an UPDATE to active (per fetched batch), an UPDATE to completed (per batch); completed jobs stay until archived. Chain: a job \`send\`s its successor and wakes the loops. Fan-in: a counter row decremented by each middle job; the one that reaches zero sends the sink. In the skew scenario ${SKEW.workers * SKEW.slotsPerWorker} loops with batchSize 1.`,
    '- All three run in this process against the same server, one at a time, each in a fresh database. Neither peer keeps a history: a job row is the whole state, and a completed job is deleted (graphile-worker) or marked (pg-boss). dagrun keeps every decision, claim and outcome as an event, which is what its per-task costs pay for.',
  ].join('\n');
}

export function renderReport(report: BenchReport): string {
  const m = report.machine;
  const minutes = (report.finishedAt.getTime() - report.startedAt.getTime()) / 60_000;
  const out: string[] = [
    '# Benchmarks',
    '',
    `Generated by \`${report.command}\` (\`node --import tsx bench/run.ts\`) on ${report.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${round(minutes, 2)} min. Do not edit by hand: change bench/ and run it again.`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run bench                                  # everything below; writes this file',
    'npm run bench -- --only=chain --systems=dagrun --repeats=5   # a part, to stdout',
    'node --import tsx bench/event-store.ts         # one foundation benchmark alone',
    'npm run bench -- --api-only                    # the REST API and projection section alone, in place',
    '```',
    '',
    'Every run creates its own database on `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops it at the end.',
    '',
    '## Machine',
    '',
    `- ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB RAM`,
    `- Node ${m.node}; ${m.postgres} at ${m.server}`,
    `- Postgres settings: ${m.postgresSettings.join(', ')}`,
    `- Load average (1/5/15 min): ${report.loadBefore.map((l) => l.toFixed(2)).join(' / ')} at the start, ${report.loadAfter.map((l) => l.toFixed(2)).join(' / ')} at the end. The machine is shared: the last column of each table is the CPU other processes used while that system was measured, in cores (of ${m.cores}).`,
    '',
    `Each figure is the median of ${report.repeats} repeats with the range in parentheses. Repeats are interleaved (each system once, then again), every run on a database of its own. Cost columns are medians over the repeats, per task: CPU of this process (the system under test runs in it), CPU of the Postgres backends of the run's database (from /proc), commits and rows written (pg_stat_database).`,
    '',
    '## Targets',
    '',
    targets(report),
    '',
  ];
  for (const scenario of SCENARIOS) {
    const rows = rowsOf(report, scenario);
    if (rows.length === 0) continue;
    out.push(
      `## ${scenario.title}`,
      '',
      scenario.description,
      '',
      scenarioTable(scenario, rows),
      '',
      '**What limits it.** ' + limits(scenario, rows),
      '',
    );
  }
  // Measured apart (bench/failover.ts runs its own etcd and processes), written by hand.
  const failover = new URL('./failover-results.md', import.meta.url);
  if (existsSync(failover)) out.push(readFileSync(failover, 'utf8').trim(), '');
  if (report.eventStore) {
    out.push(
      '## Event store',
      '',
      'bench/event-store.ts on the same server, in a database of its own: appends to one stream (each expecting the previous revision), to many streams (16 concurrent writers; with the default NOTIFY after commit, inside the transaction, and none), batches of 100 events; reading $all in pages of 1,000; append → delivered latency of a live subscription.',
      '',
      eventStoreTable(report.eventStore),
      '',
      "**What limits them.** Single appends are bound by the commit's flush to disk: each is one round trip to the `dagrun_append` plpgsql function and one fsync'd commit. A NOTIFY inside the transaction takes a cluster-wide lock from just before the commit until it has flushed, serializing concurrent writers, so the store sends the wake-up after the commit (coalesced), and subscriptions also poll. Batches amortize the flush over 100 events. Subscription latency is the NOTIFY's delivery plus one read, and a read only sees transactions below the oldest one still open on the server (the price of never skipping an event): any open write transaction on the cluster, in any database, adds latency, and after a hint that shows nothing new yet the subscription re-polls at 2 ms, doubling.",
      '',
    );
  }
  if (report.dagValidation) {
    out.push(
      '## DAG validation',
      '',
      'bench/dag-validation.ts: `parseDag` end to end on a generated DAG of 10,000 tasks and about 50,000 edges; the detail line breaks it down (the invalid DAG has one error near the end).',
      '',
      dagValidationTable(report.dagValidation),
      '',
      "**What limits it.** The `yaml` library's parser alone takes over a second for this file (`yamlParseMedianMs`), which is why valid documents are read with js-yaml (`jsYamlParseMedianMs`) and only documents with problems, which need line and column, go through `yaml` (`invalidMedianMs`, `locatedPathMedianMs`). The rest of the fast path is our own checks: schema, graph, cycles, topological order.",
      '',
    );
  }
  if (report.api || report.projectionLag) out.push(apiSection(report.api, report.projectionLag), '');
  out.push('## How each system runs the workloads', '', peers(), '');
  const changes = new URL('./engine-changes.md', import.meta.url);
  if (existsSync(changes)) out.push(readFileSync(changes, 'utf8').trim(), '');
  return `${out.join('\n').trimEnd()}\n`;
}

/** The heading of the section `apiSection` renders (`npm run bench -- --api-only` replaces it). */
export const API_SECTION_HEADING = '## REST API and projections';

/**
 * The REST API and projection section: the read benchmarks (bench/api.ts) and the projection lag
 * under a steady task rate (bench/projection-lag.ts). `measured` names the run when the section
 * was measured apart from the rest of the file.
 */
export function apiSection(
  api: readonly EventStoreResult[] | undefined,
  lag: readonly EventStoreResult[] | undefined,
  measured?: {
    readonly at: Date;
    readonly loadBefore: readonly number[];
    readonly loadAfter: readonly number[];
  },
): string {
  const out: string[] = [API_SECTION_HEADING, ''];
  if (measured) {
    out.push(
      `Measured on its own (\`npm run bench -- --api-only\`) on ${measured.at.toISOString().slice(0, 16).replace('T', ' ')} UTC; load average ${measured.loadBefore.map((l) => l.toFixed(2)).join(' / ')} at the start, ${measured.loadAfter.map((l) => l.toFixed(2)).join(' / ')} at the end.`,
      '',
    );
  }
  if (api) {
    out.push(
      '### Reads under load',
      '',
      'bench/api.ts: the API in process on loopback with a real engine (2 workers × 8 slots) and projector, read models holding 200 finished runs; autocannon (2 s warm-up, 10 s measured) on one run and on the first page of the run list.',
      '',
      eventStoreTable(api),
      '',
      '**What limits it.** The reads share the two cores with the engine, the projector, Postgres and autocannon itself; each read is one or two indexed queries and a JSON serialization.',
      '',
    );
  }
  if (lag) {
    out.push(
      '### Projection lag while 1,000 tasks/s run',
      '',
      "bench/projection-lag.ts: the in-process engine (2 workers × 8 slots) runs runs of 20 independent `noop` tasks requested at a fixed pace aimed at 1,000 tasks/s (a run every 20 ms; 3 s warm-up, then the measured window). The lag of an event is the time the projector's batch holding it had committed minus the event's `created_at` (the start of the transaction that appended it): from the append to the read models showing it, for every event created in the window. `tasks/s` counts AttemptSucceeded events in the window. Each placement runs on a database of its own: `subscriber` is a plain subscription that only notes arrivals (the floor under any projector's lag on the server at that moment), `in-process` the projector in the engine's process (as `dagrun standalone`), `own-process` the projector in a process of its own (as `dagrun projector`). The last column is the oldest write transaction open in another database of the server, sampled every 100 ms: readers of the Postgres store see only events below the server's oldest open transaction, so someone else's long transaction delays every subscription here.",
      '',
      lagMarkdown(lag),
      '',
      "**What limits it.** The projector applies a batch (up to 500 events, or what arrived within 5 ms) as one transaction: the checkpoint's compare-and-set, then all of the batch's statements as one script in one round trip, committed without waiting for the WAL flush (the read models are derived; a lost batch is lost with its checkpoint and projected again). A task's happy path — TaskQueued, AttemptStarted, AttemptSucceeded: 60 of the 62 events of a 20-task run — is gathered and applied set-wise, one statement per table for a whole group of tasks instead of two or three statements per event (src/projections/batch-plan.ts; a group is applied early when another event of one of its runs, such as RunSucceeded, needs it). Before those two changes the projector ran three statements per event, one round trip each, and at ~1,000 tasks/s on this machine each round trip waited ~3 ms for its backend to be scheduled: it fell seconds behind (p99 of 4–9 s). What remains is delivery — the subscription sees an event only once every transaction older than it has ended on the whole server, hence the `subscriber` floor and the tails when other databases hold transactions open — and CPU shared with the engine, Postgres and the other processes of a shared 2-core machine.",
      '',
    );
  }
  return out.join('\n').trimEnd();
}
