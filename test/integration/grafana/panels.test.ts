/**
 * Every Grafana panel query, run for real: the Postgres panels against read models projected from
 * real runs (a clean one, one that retries and recovers, one that dead-letters), and the
 * Prometheus panels checked against the metric names the source registers. A column renamed in a
 * migration, or a metric renamed in src/, breaks this test rather than a dashboard nobody opens.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/cli/engine.js';
import { Projector } from '../../../src/projections/index.js';
import { createTestDatabase } from '../../support/database.js';
import { startRun, testEngine, testStore, waitForRunEnd } from '../../support/engine.js';
import { catchUp } from '../projections/support.js';
import { allPanels, dashboardQueries, loadDashboards, loadProvisionedDatasources } from './dashboards.js';
import { expandPanelSql, type PanelQueryContext } from './macros.js';

const dashboards = await loadDashboards();
const queries = dashboards.flatMap(dashboardQueries);
const sqlQueries = queries.filter((q) => q.rawSql !== undefined);
const promQueries = queries.filter((q) => q.kind === 'panel' && q.expr !== undefined);

const db = await createTestDatabase();
const store = testStore(db);
let engine: Engine;
let projector: Projector;
let context: PanelQueryContext;
const dagIds = ['grafana_clean', 'grafana_flaky', 'grafana_recovers'];

beforeAll(async () => {
  const from = new Date(Date.now() - 60_000);
  projector = new Projector({ store, pool: db.pool, batchWindowMs: 2 }).start();
  engine = await testEngine(db, store);
  const marker = join(await mkdtemp(join(tmpdir(), 'dagrun-grafana-')), 'marker');
  const runs = await Promise.all([
    startRun(
      store,
      `
name: grafana_clean
tasks:
  - { id: extract, type: shell, command: 'printf ''{"rows": 3}'' > "$DAGRUN_OUTPUT"' }
  - { id: load, type: shell, command: "true", dependencies: [extract] }
`,
    ),
    startRun(
      store,
      `
name: grafana_flaky
tasks:
  - id: boom
    type: shell
    command: "echo trying >&2; exit 3"
    retry: { maxAttempts: 2, backoff: fixed, initialDelay: 10ms }
`,
    ),
    startRun(
      store,
      `
name: grafana_recovers
tasks:
  - id: gate
    type: shell
    command: 'test -f "${marker}" || { touch "${marker}"; exit 1; }'
    retry: { maxAttempts: 3, backoff: fixed, initialDelay: 10ms }
`,
    ),
  ]);
  await Promise.all(runs.map((id) => waitForRunEnd(store, id)));
  await catchUp(projector, store);
  context = {
    from,
    to: new Date(Date.now() + 60_000),
    intervalMs: 60_000,
    variables: { dag: dagIds },
  };
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  await engine?.stop();
});

describe('dashboard files', () => {
  it('are provisioned dashboards Grafana can load', async () => {
    const uids = new Set((await loadProvisionedDatasources()).map((d) => d.uid));
    expect(dashboards.map((d) => d.file)).toEqual(['dagrun-metrics.json', 'dagrun-runs.json']);
    for (const dashboard of dashboards) {
      expect(dashboard.schemaVersion, dashboard.file).toBeGreaterThanOrEqual(39);
      const ids = allPanels(dashboard).map((p) => p.id);
      expect(new Set(ids).size, `${dashboard.file}: panel ids`).toBe(ids.length);
    }
    for (const query of queries) {
      expect(uids, `${query.name}: datasource`).toContain(query.datasource.uid);
    }
  });

  it('have a query of the right kind on every panel but rows', () => {
    for (const dashboard of dashboards) {
      for (const panel of allPanels(dashboard).filter((p) => p.type !== 'row')) {
        expect(panel.targets?.length, `${dashboard.uid} / ${panel.title}`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          const sql = target.rawSql !== undefined;
          expect(sql !== (target.expr !== undefined), `${panel.title}: rawSql xor expr`).toBe(true);
          if (sql) expect(['table', 'time_series']).toContain(target.format);
        }
      }
    }
  });
});

describe('Postgres panels on projected runs', () => {
  it('the dag variable lists the registered DAGs', async () => {
    const variable = sqlQueries.find((q) => q.kind === 'variable' && q.name.endsWith('$dag'));
    const { rows } = await db.pool.query<{ id: string }>(expandPanelSql(variable!.rawSql!, context));
    expect(rows.map((r) => r.id)).toEqual(dagIds);
  });

  // Every panel has rows: the runs above leave something in every table each panel reads.
  it.each(sqlQueries.map((q) => [q.name, q] as const))('%s runs and returns rows', async (_, query) => {
    const sql = expandPanelSql(query.rawSql!, context);
    const { rows } = await db.pool.query(sql);
    expect(rows.length, sql).toBeGreaterThan(0);
  });

  // A count(*) panel has a row even on an empty table: check the stat panels' values as well.
  it('the stat panels count what happened', async () => {
    const run = async (title: string) => {
      const query = sqlQueries.find((q) => q.name === `dagrun-runs / ${title} / A`);
      return (await db.pool.query(expandPanelSql(query!.rawSql!, context))).rows;
    };
    expect(await run('Runs by state')).toEqual([
      { queued: '0', running: '0', succeeded: '2', failed: '1', cancelled: '0' },
    ]);
    expect(await run('DLQ size')).toEqual([{ 'open items': '1' }]);
    const durations = await run('Task duration percentiles by DAG and task');
    expect(durations.map((r) => [r.dag, r.task, r.attempts])).toEqual(
      expect.arrayContaining([
        ['grafana_flaky', 'boom', '2'],
        ['grafana_recovers', 'gate', '2'],
        ['grafana_clean', 'load', '1'],
      ]),
    );
  });
});

/** Metric names src/ registers with prom-client (`name: '…'`, or the engine's `gauge('…'`). */
async function registeredMetrics(): Promise<Set<string>> {
  const src = fileURLToPath(new URL('../../../src/', import.meta.url));
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  const names = new Set<string>();
  for (const file of files) {
    const text = await readFile(join(src, file), 'utf8');
    for (const m of text.matchAll(/(?:name:\s*|gauge\(\s*)'(dagrun_[a-z0-9_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

/** The metric a PromQL series name refers to: a histogram's series carry a suffix. */
const metricOf = (series: string) => series.replace(/_(bucket|sum|count)$/, '');

describe('Prometheus panels', () => {
  it('name only metrics that src/ registers, and show every one of them', async () => {
    const registered = await registeredMetrics();
    expect(registered.size).toBeGreaterThan(5);
    const shown = new Set<string>();
    for (const query of promQueries) {
      const named = [...query.expr!.matchAll(/\bdagrun_[a-z0-9_]+/g)].map((m) => metricOf(m[0]));
      expect(named.length, `${query.name}: names no dagrun metric`).toBeGreaterThan(0);
      for (const metric of named) {
        expect(registered, `${query.name}: ${metric}`).toContain(metric);
        shown.add(metric);
      }
    }
    expect([...shown].sort()).toEqual([...registered].sort());
  });
});

describe('the macro expander', () => {
  const at = {
    from: new Date('2030-01-01T00:00:00.000Z'),
    to: new Date('2030-01-01T01:00:00.000Z'),
    intervalMs: 300_000,
    variables: { dag: ["it's", 'b'] },
  };

  it('expands as the Postgres datasource does', () => {
    expect(
      expandPanelSql(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${dag}, not a JS placeholder
        'SELECT $__timeGroupAlias(t, $__interval), $__interval_ms FROM x WHERE $__timeFilter(t) AND d IN (${dag}) AND e > $__unixEpochFrom()',
        at,
      ),
    ).toBe(
      `SELECT floor(extract(epoch from t)/300)*300 AS "time", 300000 FROM x WHERE t BETWEEN '2030-01-01T00:00:00.000Z' AND '2030-01-01T01:00:00.000Z' AND d IN ('it''s','b') AND e > 1893456000`,
    );
  });

  it.each([
    ['an unknown macro', 'SELECT $__timeFliter(t)'],
    ['an unknown variable', 'SELECT 1 WHERE d = $dagg'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${dag}, not a JS placeholder
    ['a variable format', 'SELECT 1 WHERE d IN (${dag:csv})'],
    ['a fill argument', 'SELECT $__timeGroup(t, $__interval, 0)'],
    ['a nested call', 'SELECT $__timeFilter(coalesce(a, b))'],
  ])('refuses %s', (_, sql) => {
    expect(() => expandPanelSql(sql, at)).toThrow();
  });
});
