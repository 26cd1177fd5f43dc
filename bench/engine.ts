/**
 * dagrun's engine scenarios alone, quickly, for working on the engine: the same workloads and
 * the same engine set-up as `npm run bench`, without the peers and without writing a report.
 *
 *   node --import tsx bench/engine.ts [--only=throughput,chain,fan] [--repeats=3] [--warmup]
 *                                     [--profile=DIR] [--pg-stats] [--queries]
 *
 * Repeats are interleaved (throughput, chain, fan, then again). `--warmup` first runs each
 * scenario once unreported, so the measured repeats find the code compiled (a first run in a
 * fresh process spends a third more Node CPU per task, compiling). Each line gives the figure, the
 * CPU this process and the database's Postgres backends used per task, and the machine's load.
 * `--profile=DIR` writes a V8 CPU profile of each timed section (request → final run event) to
 * DIR; `--pg-stats` prints the time spent per SQL function of the run's database (track_functions),
 * which shows where the Postgres CPU of a task goes; `--queries` counts the statements this
 * process sent during each run, by kind (appends, reads, NOTIFYs, …).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withBenchDatabase } from './support/database.js';
import { ResourceMeter } from './support/resources.js';
import { spread } from './support/stats.js';
import { dagrunChain, dagrunFan, dagrunThroughput } from './systems/dagrun.js';
import { CHAIN_LENGTH, FAN_WIDTH, type Meter, NO_METER, THROUGHPUT_TASKS } from './workloads.js';

const serverUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const argv = process.argv.slice(2);
const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = new Set((value('only') ?? 'throughput,chain,fan').split(','));
const repeats = Number(value('repeats') ?? 3);
const profileDir = value('profile');
const pgStats = argv.includes('--pg-stats');
const countQueries = argv.includes('--queries');

/** Statements sent, by their first words (`--queries`): every pg client of this process. */
const queryCounts = new Map<string, number>();
/** The counts of the last timed section (request → final run event). */
let timedCounts = new Map<string, number>();
if (countQueries) {
  const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; name?: string };
    const text = typeof first === 'string' ? first : (first?.name ?? first?.text ?? '?');
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
    queryCounts.set(key, (queryCounts.get(key) ?? 0) + 1);
    return original.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

type Figures = Record<string, number>;
const SCENARIOS: Record<string, { tasks: number; run: (db: never, m: Meter) => Promise<Figures> }> = {
  throughput: {
    tasks: THROUGHPUT_TASKS,
    run: async (db, m) => {
      const r = await dagrunThroughput(db, m, THROUGHPUT_TASKS);
      return { tasksPerSecond: r.tasksPerSecond, seconds: r.seconds };
    },
  },
  chain: {
    tasks: CHAIN_LENGTH,
    run: async (db, m) => {
      const r = await dagrunChain(db, m, CHAIN_LENGTH);
      return { p50: r.p50Ms, p99: r.p99Ms, max: r.maxMs, seconds: r.seconds };
    },
  },
  fan: {
    tasks: FAN_WIDTH + 2,
    run: async (db, m) => ({ seconds: (await dagrunFan(db, m, FAN_WIDTH)).seconds }),
  },
};

/** The resource meter, plus a CPU profile of the timed section when asked. */
function profiled(meter: ResourceMeter, label: string): Meter {
  const session = profileDir ? new Session() : undefined;
  return {
    async start() {
      await meter.start();
      queryCounts.clear();
      if (!session) return;
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async stop() {
      await meter.stop();
      timedCounts = new Map(queryCounts);
      if (!session || !profileDir) return;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(join(profileDir, `${label}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

async function functionStats(dbUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ funcname: string; calls: string; total: number; self: number }>(
      `SELECT funcname, calls, total_time AS total, self_time AS self FROM pg_stat_user_functions
       ORDER BY total_time DESC`,
    );
    return rows
      .map(
        (r) =>
          `    ${r.funcname}: ${r.calls} calls, total ${r.total.toFixed(0)} ms, self ${r.self.toFixed(0)} ms`,
      )
      .join('\n');
  } finally {
    await client.end();
  }
}

if (argv.includes('--warmup')) {
  for (const [key, scenario] of Object.entries(SCENARIOS)) {
    if (!only.has(key)) continue;
    await withBenchDatabase(serverUrl, `${key}_warmup`, (db) => scenario.run(db as never, NO_METER));
  }
}

const results = new Map<string, Figures[]>();
for (let repeat = 1; repeat <= repeats; repeat++) {
  for (const [key, scenario] of Object.entries(SCENARIOS)) {
    if (!only.has(key)) continue;
    await withBenchDatabase(serverUrl, `${key}_dagrun`, async (db) => {
      if (pgStats) {
        const admin = new pg.Client({ connectionString: serverUrl });
        await admin.connect();
        await admin.query(`ALTER DATABASE ${db.name} SET track_functions = 'pl'`);
        await admin.end();
      }
      const meter = new ResourceMeter(serverUrl, db.name);
      try {
        const figures = await scenario.run(db as never, profiled(meter, `${key}-${repeat}`));
        const use = await meter.finish();
        const perTask = (ms: number | undefined) => ((ms ?? Number.NaN) / scenario.tasks).toFixed(3);
        const other =
          use.machineCpuMs === undefined
            ? Number.NaN
            : (use.machineCpuMs - use.nodeCpuMs - (use.pgCpuMs ?? 0)) / use.wallMs;
        const shown = Object.entries(figures)
          .map(([k, v]) => `${k}=${v.toFixed(k === 'tasksPerSecond' ? 0 : 2)}`)
          .join(' ');
        process.stdout.write(
          `${key} #${repeat}: ${shown} · node ${perTask(use.nodeCpuMs)} ms/task · pg ${perTask(use.pgCpuMs)} ms/task` +
            ` · commits/task ${(use.commits / scenario.tasks).toFixed(3)} · other ${other.toFixed(2)} cores · load ${loadavg()[0]?.toFixed(2)}\n`,
        );
        if (pgStats) process.stdout.write(`${await functionStats(db.url)}\n`);
        if (countQueries) {
          const shown = [...timedCounts].sort((a, b) => b[1] - a[1]).slice(0, 12);
          for (const [text, n] of shown) process.stdout.write(`    ${String(n).padStart(7)} ${text}\n`);
        }
        results.set(key, [...(results.get(key) ?? []), figures]);
      } finally {
        await meter.close();
      }
    });
  }
}
for (const [key, runs] of results) {
  const names = Object.keys(runs[0] ?? {});
  const shown = names.map((n) => {
    const s = spread(runs.map((r) => r[n] ?? Number.NaN));
    const digits = n === 'tasksPerSecond' ? 0 : 2;
    return `${n} ${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  });
  process.stdout.write(`median ${key}: ${shown.join(' · ')}\n`);
}
process.exit(0);
