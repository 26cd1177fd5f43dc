/** The provisioned Grafana dashboards and datasources, read from grafana/ as Grafana would load them. */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const GRAFANA = fileURLToPath(new URL('../../../grafana/', import.meta.url));

interface DatasourceRef {
  readonly type?: string;
  readonly uid?: string;
}

interface Target {
  readonly refId: string;
  readonly datasource?: DatasourceRef;
  readonly rawSql?: string;
  readonly format?: string;
  readonly expr?: string;
}

export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: DatasourceRef;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly datasource?: DatasourceRef;
  readonly query?: string | { readonly query: string };
}

export interface Dashboard {
  readonly file: string;
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

/** One query of a dashboard: a panel target or a template variable's query. */
export interface DashboardQuery {
  readonly kind: 'panel' | 'variable';
  /** `<dashboard uid> / <panel title> / <refId>`, or `<dashboard uid> / $<variable>`. */
  readonly name: string;
  readonly datasource: DatasourceRef;
  readonly rawSql?: string;
  readonly format?: string;
  readonly expr?: string;
}

export async function loadDashboards(): Promise<Dashboard[]> {
  const dir = GRAFANA + 'dashboards/';
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({ file, ...JSON.parse(await readFile(dir + file, 'utf8')) }) as Dashboard),
  );
}

/** Every panel, rows' nested panels included (a collapsed row keeps its panels inside it). */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every query of the dashboard; a target without its own datasource uses its panel's. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const fromPanels = allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      kind: 'panel' as const,
      name: `${dashboard.uid} / ${panel.title} / ${t.refId}`,
      datasource: t.datasource ?? panel.datasource ?? {},
      rawSql: t.rawSql,
      format: t.format,
      expr: t.expr,
    })),
  );
  const fromVariables = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query?.query;
      const isSql = v.datasource?.type !== 'prometheus';
      return {
        kind: 'variable' as const,
        name: `${dashboard.uid} / $${v.name}`,
        datasource: v.datasource ?? {},
        ...(isSql ? { rawSql: query, format: 'table' } : { expr: query }),
      };
    });
  return [...fromPanels, ...fromVariables];
}

interface ProvisionedDatasource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
}

export async function loadProvisionedDatasources(): Promise<ProvisionedDatasource[]> {
  const text = await readFile(GRAFANA + 'provisioning/datasources/datasources.yaml', 'utf8');
  return (parse(text) as { datasources: ProvisionedDatasource[] }).datasources;
}
