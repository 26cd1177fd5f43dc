/**
 * The scenarios, and which system runs each one how. Every entry is one row of a table in
 * docs/BENCHMARKS.md; `figures` says which numbers of its result go in the row.
 */
import type { BenchDatabase } from './support/database.js';
import { dagrunChain, dagrunFan, dagrunSkew, dagrunThroughput } from './systems/dagrun.js';
import { graphileChain, graphileFan, graphileSkew, graphileThroughput } from './systems/graphile-worker.js';
import { pgBossChain, pgBossFan, pgBossSkew, pgBossThroughput } from './systems/pg-boss.js';
import {
  CHAIN_LENGTH,
  type ChainResult,
  FAN_WIDTH,
  type Meter,
  SKEW,
  THROUGHPUT_TASKS,
  type ThroughputResult,
} from './workloads.js';

export type System = 'dagrun' | 'graphile-worker' | 'pg-boss';

/** One number of a result, as a column. */
export interface Figure {
  readonly label: string;
  readonly unit: string;
  /** Which way is better, for the summary. */
  readonly better: 'higher' | 'lower';
  readonly digits?: number;
}

export interface Contender {
  readonly system: System;
  /** The row's name: the system, and a variant when one system runs twice (stealing on/off). */
  readonly label: string;
  readonly run: (db: BenchDatabase, meter: Meter) => Promise<Record<string, number | string>>;
}

export interface Scenario {
  readonly key: 'throughput' | 'chain' | 'fan' | 'skew';
  readonly title: string;
  readonly description: string;
  /** Work items per run, for the per-task cost columns. */
  readonly tasks: number;
  readonly figures: Readonly<Record<string, Figure>>;
  readonly contenders: readonly Contender[];
}

const throughputFigures = (r: ThroughputResult) => ({ tasksPerSecond: r.tasksPerSecond, seconds: r.seconds });
const chainFigures = (r: ChainResult) => ({ p50: r.p50Ms, p99: r.p99Ms, max: r.maxMs, seconds: r.seconds });

export const SCENARIOS: readonly Scenario[] = [
  {
    key: 'throughput',
    title: `${THROUGHPUT_TASKS.toLocaleString('en-US')} independent noop tasks`,
    description:
      'All tasks are ready at once. End to end: from the request (dagrun: RequestRun; peers: one bulk insert) until the last completion is committed (dagrun: RunSucceeded in the log; graphile-worker: the jobs table empty; pg-boss: every job `completed`).',
    tasks: THROUGHPUT_TASKS,
    figures: {
      tasksPerSecond: { label: 'throughput', unit: 'tasks/s', better: 'higher' },
      seconds: { label: 'total', unit: 's', better: 'lower' },
    },
    contenders: [
      {
        system: 'dagrun',
        label: 'dagrun',
        run: async (db, m) => throughputFigures(await dagrunThroughput(db, m, THROUGHPUT_TASKS)),
      },
      {
        system: 'graphile-worker',
        label: 'graphile-worker',
        run: async (db, m) => throughputFigures(await graphileThroughput(db, m, THROUGHPUT_TASKS)),
      },
      {
        system: 'pg-boss',
        label: 'pg-boss',
        run: async (db, m) => throughputFigures(await pgBossThroughput(db, m, THROUGHPUT_TASKS)),
      },
    ],
  },
  {
    key: 'chain',
    title: `A chain of ${CHAIN_LENGTH} dependent noop tasks`,
    description:
      'Per hop: previous task finished → next task started. dagrun: the `finishedAt` of AttemptSucceeded of task i to the `startedAt` of AttemptStarted of task i+1, read from the event log after the run (millisecond timestamps). Peers: the moment handler i finished its (empty) work, before it enqueues its successor, to the moment handler i+1 is called (sub-millisecond clock).',
    tasks: CHAIN_LENGTH,
    figures: {
      p50: { label: 'hop p50', unit: 'ms', better: 'lower' },
      p99: { label: 'hop p99', unit: 'ms', better: 'lower' },
      max: { label: 'hop max', unit: 'ms', better: 'lower' },
      seconds: { label: 'total', unit: 's', better: 'lower' },
    },
    contenders: [
      {
        system: 'dagrun',
        label: 'dagrun',
        run: async (db, m) => chainFigures(await dagrunChain(db, m, CHAIN_LENGTH)),
      },
      {
        system: 'graphile-worker',
        label: 'graphile-worker',
        run: async (db, m) => chainFigures(await graphileChain(db, m, CHAIN_LENGTH)),
      },
      {
        system: 'pg-boss',
        label: 'pg-boss',
        run: async (db, m) => chainFigures(await pgBossChain(db, m, CHAIN_LENGTH)),
      },
    ],
  },
  {
    key: 'fan',
    title: `Fan-out/fan-in 1 → ${FAN_WIDTH.toLocaleString('en-US')} → 1`,
    description:
      'A root, 1,000 tasks that depend on it, a sink that depends on all 1,000. From the request until the sink has completed.',
    tasks: FAN_WIDTH + 2,
    figures: { seconds: { label: 'total', unit: 's', better: 'lower' } },
    contenders: [
      {
        system: 'dagrun',
        label: 'dagrun',
        run: async (db, m) => ({ seconds: (await dagrunFan(db, m, FAN_WIDTH)).seconds }),
      },
      {
        system: 'graphile-worker',
        label: 'graphile-worker',
        run: async (db, m) => ({ seconds: (await graphileFan(db, m, FAN_WIDTH)).seconds }),
      },
      {
        system: 'pg-boss',
        label: 'pg-boss',
        run: async (db, m) => ({ seconds: (await pgBossFan(db, m, FAN_WIDTH)).seconds }),
      },
    ],
  },
  {
    key: 'skew',
    title: `Work stealing: ${SKEW.long} tasks of ${SKEW.longMs / 1000} s among ${SKEW.short} of ${SKEW.shortMs} ms`,
    description: `${SKEW.workers} workers × ${SKEW.slotsPerWorker} slots. Every long task is placed on the same worker (see bench/workloads.ts), so without stealing that worker runs all ${SKEW.long} long tasks two at a time while the others idle. dagrun's tasks are HTTP calls to a loopback server that answers after the task's duration; the peers' handlers sleep. Makespan: from the request until the last completion.`,
    tasks: SKEW.long + SKEW.short,
    figures: {
      seconds: { label: 'makespan', unit: 's', better: 'lower' },
      note: { label: 'where the long tasks ran', unit: '', better: 'lower' },
    },
    contenders: [
      {
        system: 'dagrun',
        label: 'dagrun, stealing on',
        run: async (db, m) => ({ ...(await dagrunSkew(db, m, true)) }),
      },
      {
        system: 'dagrun',
        label: 'dagrun, stealing off',
        run: async (db, m) => ({ ...(await dagrunSkew(db, m, false)) }),
      },
      {
        system: 'graphile-worker',
        label: 'graphile-worker',
        run: async (db, m) => ({ ...(await graphileSkew(db, m)) }),
      },
      {
        system: 'pg-boss',
        label: 'pg-boss',
        run: async (db, m) => ({ ...(await pgBossSkew(db, m)) }),
      },
    ],
  },
];
