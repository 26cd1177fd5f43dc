/**
 * Runs every benchmark and writes docs/BENCHMARKS.md:
 *
 *   npm run bench                      (node --import tsx bench/run.ts)
 *
 * dagrun, graphile-worker and pg-boss run the same scenarios on the same Postgres server
 * (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres), interleaved — repeat 1 of
 * each system, then repeat 2, … — so that load from other work on the machine falls on all of
 * them alike. Every run gets a database of its own, created before and dropped after. The
 * foundation benchmarks (event store, DAG validation) run first.
 *
 * Options: --repeats=N (default 3) · --only=throughput,chain,fan,skew · --systems=dagrun,…
 * · --skip-foundation · --out=FILE (default docs/BENCHMARKS.md; with --only or --systems the
 * report goes to stdout unless --out is given) · --json=FILE (raw results) · --api-only (only
 * the REST API and projection-lag benchmarks; their section of --out, default
 * docs/BENCHMARKS.md, is replaced and the rest of the file kept).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runApiBench } from './api.js';
import { runDagValidationBench } from './dag-validation.js';
import { runEventStoreBench } from './event-store.js';
import { runProjectionLagBench } from './projection-lag.js';
import {
  API_SECTION_HEADING,
  apiSection,
  type BenchReport,
  type MachineFacts,
  type RunRecord,
  renderReport,
} from './report.js';
import { SCENARIOS, type System } from './scenarios.js';
import { type BenchDatabase, withBenchDatabase } from './support/database.js';
import { ResourceMeter } from './support/resources.js';
import type { Meter } from './workloads.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

interface Options {
  readonly repeats: number;
  readonly only: ReadonlySet<string> | undefined;
  readonly systems: ReadonlySet<string> | undefined;
  readonly foundation: boolean;
  readonly out: string | undefined;
  readonly json: string | undefined;
  readonly apiOnly: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const list = (name: string) => {
    const v = value(name);
    return v ? new Set(v.split(',').map((s) => s.trim())) : undefined;
  };
  const repeats = Number(value('repeats') ?? 3);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats must be a positive integer');
  const only = list('only');
  const systems = list('systems');
  const partial = only !== undefined || systems !== undefined;
  const defaultOut = fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url));
  return {
    repeats,
    only,
    systems,
    foundation: !argv.includes('--skip-foundation') && !partial,
    out: value('out') ?? (partial ? undefined : defaultOut),
    json: value('json'),
    apiOnly: argv.includes('--api-only'),
  };
}

async function machineFacts(serverUrl: string): Promise<MachineFacts> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '?';
    const { rows } = await client.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'shared_buffers', 'max_connections',
                      'autovacuum', 'commit_delay', 'full_page_writes')
       ORDER BY name`,
    );
    const url = new URL(serverUrl);
    return {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? '?',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: version.split(' on ')[0] ?? version,
      postgresSettings: rows.map((r) => `${r.name}=${r.setting}`),
      server: `${url.hostname}:${url.port || '5432'}`,
    };
  } finally {
    await client.end();
  }
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const serverUrl = process.env['DATABASE_URL'] ?? DEFAULT_URL;
  if (options.apiOnly) {
    await apiOnly(serverUrl, options.out ?? fileURLToPath(new URL('../docs/BENCHMARKS.md', import.meta.url)));
    return;
  }
  const startedAt = new Date();
  const loadBefore = loadavg();
  const machine = await machineFacts(serverUrl);
  log(`${machine.cores} cores, ${machine.node}, ${machine.postgres}, load ${loadBefore[0]?.toFixed(2)}`);

  let eventStore: BenchReport['eventStore'];
  let dagValidation: BenchReport['dagValidation'];
  let api: BenchReport['api'];
  let projectionLag: BenchReport['projectionLag'];
  if (options.foundation) {
    log('event store benchmark');
    eventStore = await runEventStoreBench(serverUrl);
    log('DAG validation benchmark');
    dagValidation = await runDagValidationBench();
    log('API benchmark');
    api = await runApiBench(serverUrl);
    log('projection lag benchmark');
    projectionLag = await runProjectionLagBench(serverUrl);
  }

  const records: RunRecord[] = [];
  for (const scenario of SCENARIOS) {
    if (options.only && !options.only.has(scenario.key)) continue;
    const contenders = scenario.contenders.filter((c) => !options.systems || options.systems.has(c.system));
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      for (const contender of contenders) {
        const record = await measure(
          serverUrl,
          scenario.key,
          contender.label,
          contender.system,
          repeat,
          contender.run,
        );
        records.push(record);
        const shown = Object.entries(record.figures)
          .filter(([k]) => k !== 'note')
          .map(([k, v]) => `${k}=${typeof v === 'number' ? v.toFixed(2) : v}`)
          .join(' ');
        log(`${scenario.key} #${repeat} ${contender.label}: ${record.error ?? shown}`);
      }
    }
  }

  const report: BenchReport = {
    startedAt,
    finishedAt: new Date(),
    command: 'npm run bench',
    machine,
    loadBefore,
    loadAfter: loadavg(),
    repeats: options.repeats,
    eventStore,
    dagValidation,
    api,
    projectionLag,
    records,
  };
  const markdown = renderReport(report);
  if (options.out) {
    writeFileSync(options.out, markdown);
    log(`wrote ${options.out}`);
  } else {
    process.stdout.write(markdown);
  }
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
}

/** Runs the API and projection-lag benchmarks and replaces their section of `out`. */
async function apiOnly(serverUrl: string, out: string): Promise<void> {
  const at = new Date();
  const loadBefore = loadavg();
  log('API benchmark');
  const api = await runApiBench(serverUrl);
  log('projection lag benchmark');
  const lag = await runProjectionLagBench(serverUrl);
  const section = apiSection(api, lag, { at, loadBefore, loadAfter: loadavg() });
  const existing = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const start = existing.indexOf(`\n${API_SECTION_HEADING}\n`);
  let updated: string;
  if (start >= 0) {
    const next = existing.indexOf('\n## ', start + 1);
    updated = `${existing.slice(0, start + 1)}${section}\n${next >= 0 ? existing.slice(next) : ''}`;
  } else {
    const before = existing.indexOf('\n## How each system runs the workloads');
    updated =
      before >= 0
        ? `${existing.slice(0, before + 1)}${section}\n\n${existing.slice(before + 1)}`
        : `${existing}\n${section}\n`;
  }
  writeFileSync(out, updated);
  log(`replaced the "${API_SECTION_HEADING.slice(3)}" section of ${out}`);
}

async function measure(
  serverUrl: string,
  scenario: string,
  label: string,
  system: System,
  repeat: number,
  run: (db: BenchDatabase, meter: Meter) => Promise<Record<string, number | string>>,
): Promise<RunRecord> {
  try {
    return await withBenchDatabase(serverUrl, `${scenario}_${system}`, async (db) => {
      const meter = new ResourceMeter(serverUrl, db.name);
      try {
        const figures = await run(db, meter);
        const use = await meter.finish();
        return { scenario, label, system, repeat, figures, use };
      } finally {
        await meter.close();
      }
    });
  } catch (error) {
    return { scenario, label, system, repeat, figures: {}, error: String(error) };
  }
}

await main();
// Peer libraries leave sockets and timers behind after stop(); the report is written.
process.exit(0);
