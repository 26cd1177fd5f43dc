/**
 * The checks of the deployment files (docker-compose.yml, deploy/prometheus.yml, Dockerfile,
 * .dockerignore, the Grafana provisioning they mount) against the code: the CLI's real
 * subcommands and flags (buildProgram), the configuration schema (configSchema, loadConfig), the
 * settings each process refuses to start without (requireClusterSettings, assertSafeAuth).
 * Each check returns the problems it found, one line each; none means the check holds. They take
 * the files as text so that a test can break a copy on purpose and see the check fail.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { z } from 'zod';
import { assertSafeAuth } from '../../../src/api/server.js';
import { requireClusterSettings } from '../../../src/cli/cluster.js';
import { DEFAULT_API_PORT } from '../../../src/cli/commands/api.js';
import { buildProgram } from '../../../src/cli/program.js';
import { type Config, type ConfigFlags, configSchema, loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';
import {
  argvOf,
  type CliInvocation,
  type ComposeFile,
  type ComposeService,
  containerPortsOf,
  dependenciesOf,
  environmentOf,
  isDagrunService,
  loadCompose,
  mountsOf,
  optionValue,
  parseYaml,
  ROOT,
  readInvocation,
  readRepoFile,
  settingOf,
} from './compose-model.js';

/** Variables a dagrun service may set beyond configSchema's keys: read by Node or libraries, not by dagrun's config. */
export const STANDARD_ENV = new Set([
  'NODE_ENV',
  'NODE_OPTIONS',
  'TZ',
  // Read by the OpenTelemetry SDK itself, not by dagrun's config (README, "Tracing").
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_LOG_LEVEL',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
]);

export interface DeployFiles {
  readonly compose: string;
  readonly prometheus: string;
  readonly dockerfile: string;
  readonly dockerignore: string;
}

export function readDeployFiles(): DeployFiles {
  return {
    compose: readRepoFile('docker-compose.yml'),
    prometheus: readRepoFile('deploy/prometheus.yml'),
    dockerfile: readRepoFile('Dockerfile'),
    dockerignore: readRepoFile('.dockerignore'),
  };
}

/** One dagrun service, read the way the process would read its own command and environment. */
export interface DagrunProcess {
  readonly name: string;
  readonly service: ComposeService;
  readonly invocation: CliInvocation | undefined;
  /** The subcommand: api, scheduler, worker, projector, migrate, … */
  readonly role: string | undefined;
  readonly env: Record<string, string>;
  readonly flags: ConfigFlags;
  /** Undefined when loadConfig refused the settings (see problems). */
  readonly config: Config | undefined;
  readonly problems: readonly string[];
}

export class Deployment {
  readonly compose: ComposeFile;
  /** Variables without a default, found while interpolating. */
  readonly interpolationProblems: string[] = [];
  readonly prometheus: PrometheusConfig;
  readonly processes: readonly DagrunProcess[];

  constructor(readonly files: DeployFiles) {
    this.compose = loadCompose(files.compose, this.interpolationProblems);
    this.prometheus = parseYaml(files.prometheus) as PrometheusConfig;
    const program = buildProgram();
    this.processes = Object.entries(this.compose.services)
      .filter(([, service]) => isDagrunService(service))
      .map(([name, service]) => readProcess(program, name, service));
  }

  service(name: string): ComposeService | undefined {
    return Object.hasOwn(this.compose.services, name) ? this.compose.services[name] : undefined;
  }

  /** Services whose image matches, by name. */
  servicesByImage(pattern: RegExp): [string, ComposeService][] {
    return Object.entries(this.compose.services).filter(([, s]) => pattern.test(s.image ?? ''));
  }
}

function readProcess(
  program: ReturnType<typeof buildProgram>,
  name: string,
  service: ComposeService,
): DagrunProcess {
  const problems: string[] = [];
  const { env, unset } = environmentOf(service);
  for (const key of unset) problems.push(`${name}: ${key} has no value (it would come from the host)`);
  const read = readInvocation(program, argvOf(service.command));
  problems.push(...read.problems.map((p) => `${name}: ${p}`));
  const flags: Record<string, string> = {};
  for (const [option, value] of read.invocation?.options ?? []) {
    const setting = settingOf(option);
    if (setting && typeof value === 'string') flags[setting] = value;
  }
  let config: Config | undefined;
  try {
    config = loadConfig(env, flags as ConfigFlags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems.map((p) => `${name}: ${p}`));
  }
  return {
    name,
    service,
    invocation: read.invocation,
    role: read.invocation?.path[0],
    env,
    flags: flags as ConfigFlags,
    config,
    problems,
  };
}

// ---- Compose structure ------------------------------------------------------------------------

/** The compose file against the Compose Specification's JSON schema (shipped in the docker-compose package testcontainers depends on). */
export function checkComposeSchema(files: DeployFiles): string[] {
  const require = createRequire(createRequire(import.meta.url).resolve('testcontainers'));
  const specPath = require.resolve('docker-compose/schema/compose-spec.json');
  // zod reads $defs (2020-12); the spec names them `definitions` (draft-07).
  const spec = JSON.parse(
    readFileSync(specPath, 'utf8').replaceAll('"#/definitions/', '"#/$defs/'),
  ) as Record<string, unknown>;
  const { definitions, $schema: _draft, ...rest } = spec;
  const schema = z.fromJSONSchema({ ...rest, $defs: definitions } as Parameters<typeof z.fromJSONSchema>[0]);
  const result = schema.safeParse(parseYaml(files.compose));
  return result.success
    ? []
    : result.error.issues.map((issue) => `docker-compose.yml ${issue.path.join('.')}: ${issue.message}`);
}

/** Every service has an image or a build; dagrun services share one image built from this repo. */
export function checkImages(d: Deployment): string[] {
  const problems: string[] = [];
  const dagrunImages = new Set<string>();
  for (const [name, service] of Object.entries(d.compose.services)) {
    if (!service.image && !service.build) problems.push(`${name}: neither image nor build`);
    if (isDagrunService(service)) {
      const context = typeof service.build === 'string' ? service.build : service.build?.context;
      if (context !== '.') problems.push(`${name}: dagrun services build the repository root (build: .)`);
      dagrunImages.add(service.image ?? '(none)');
      if (service.entrypoint !== undefined) problems.push(`${name}: keep the image's entrypoint (dagrun)`);
      if (argvOf(service.command)[0] === 'dagrun')
        problems.push(`${name}: the entrypoint is dagrun already; the command starts with the subcommand`);
    } else if (!/:[\w][\w.-]*$/.test(service.image ?? '') || /:latest$/.test(service.image ?? '')) {
      problems.push(`${name}: pin the image to a version tag (${service.image})`);
    }
  }
  if (dagrunImages.size > 1)
    problems.push(`dagrun services use several images: ${[...dagrunImages].join(', ')}`);
  return problems;
}

/** Every `${VAR}` has a default: `docker compose up` works without a .env file. */
export function checkInterpolation(d: Deployment): string[] {
  return d.interpolationProblems;
}

/** Mounted host paths exist in the repository; named volumes are declared. */
export function checkMounts(d: Deployment): string[] {
  const problems: string[] = [];
  const declared = new Set(Object.keys(d.compose.volumes ?? {}));
  for (const [name, service] of Object.entries(d.compose.services)) {
    for (const mount of mountsOf(service)) {
      if (mount.source === undefined) continue;
      if (mount.bind) {
        if (!mount.source.startsWith('./'))
          problems.push(`${name}: mount ${mount.source} from inside the repository (./…)`);
        else if (!existsSync(join(ROOT, mount.source)))
          problems.push(`${name}: ${mount.source} does not exist`);
      } else if (!declared.has(mount.source)) {
        problems.push(`${name}: volume ${mount.source} is not declared under volumes:`);
      }
    }
  }
  return problems;
}

/** depends_on names services, with conditions they can meet. */
export function checkDependencies(d: Deployment): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(d.compose.services)) {
    for (const [target, condition] of dependenciesOf(service)) {
      const dependency = d.service(target);
      if (!dependency) {
        problems.push(`${name}: depends on ${target}, which is no service`);
        continue;
      }
      if (
        condition === 'service_healthy' &&
        (!dependency.healthcheck?.test || dependency.healthcheck.disable)
      )
        problems.push(`${name}: waits for ${target} to be healthy, but ${target} has no healthcheck`);
      if (condition === 'service_completed_successfully' && dependency.restart !== 'no')
        problems.push(`${name}: waits for ${target} to complete, but ${target} restarts (restart: "no")`);
    }
  }
  for (const p of d.processes) {
    if (p.role === 'migrate') continue;
    const migrate = d.processes.find((m) => m.role === 'migrate');
    if (!migrate) problems.push('no one-shot `dagrun migrate` service');
    else if (dependenciesOf(p.service).get(migrate.name) !== 'service_completed_successfully')
      problems.push(`${p.name}: start after ${migrate.name} completed successfully`);
  }
  return problems;
}

// ---- dagrun processes -------------------------------------------------------------------------

/** Commands are real subcommands with real options, and every variable is a setting. */
export function checkCommandsAndEnvironment(d: Deployment): string[] {
  const problems: string[] = [];
  const settings = new Set(Object.keys(configSchema.shape));
  for (const p of d.processes) {
    problems.push(...p.problems);
    for (const key of Object.keys(p.env)) {
      if (!settings.has(key) && !STANDARD_ENV.has(key))
        problems.push(`${p.name}: ${key} is neither a dagrun setting (configSchema) nor in STANDARD_ENV`);
    }
  }
  return problems;
}

const LOOPBACK = /^(127\.|localhost$|::1$)/;

/** Where Prometheus finds a process's /metrics: the API port for the API, else the health port. */
export function metricsPort(p: DagrunProcess): number | undefined {
  if (!p.config) return undefined;
  if (p.role === 'api') return p.config.api.port ?? DEFAULT_API_PORT;
  if (p.role === 'scheduler' || p.role === 'worker' || p.role === 'projector') return p.config.health.port;
  return undefined;
}

/** Each role has the settings it cannot start without, reachable from the other containers. */
export function checkProcessSettings(d: Deployment): string[] {
  const problems: string[] = [];
  const etcdClientUrls = etcdMembers(d).flatMap((m) =>
    (m.settings.get('advertise-client-urls') ?? '').split(','),
  );
  for (const p of d.processes) {
    const { config, name } = p;
    if (!config || !p.invocation) continue;
    const refused = (fn: () => void) => {
      try {
        fn();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problems.push(...error.problems.map((problem) => `${name}: ${problem}`));
      }
    };
    problems.push(...checkDatabaseUrl(d, p));
    const long = new Set(['api', 'scheduler', 'worker', 'projector']);
    if (!long.has(p.role ?? '') && p.role !== 'migrate') problems.push(`${name}: unexpected role ${p.role}`);
    if (p.role === 'scheduler' || p.role === 'worker') {
      refused(() => requireClusterSettings(config));
      const endpoints = [...(config.etcdEndpoints ?? [])].sort();
      if (JSON.stringify(endpoints) !== JSON.stringify([...etcdClientUrls].sort()))
        problems.push(
          `${name}: ETCD_ENDPOINTS ${endpoints} are not the etcd members' client URLs ${etcdClientUrls}`,
        );
    }
    if (p.role === 'scheduler') {
      const { host, port, advertise } = config.cluster.dispatch;
      if (LOOPBACK.test(host))
        problems.push(`${name}: the dispatch endpoint binds ${host}; workers cannot reach it`);
      if (advertise !== `http://${name}:${port}`)
        problems.push(`${name}: advertises ${advertise}; workers reach it at http://${name}:${port}`);
    }
    if (p.role === 'api') refused(() => assertSafeAuth(config.api));
    if (p.role === 'api' && LOOPBACK.test(config.api.host))
      problems.push(`${name}: the API binds ${config.api.host}; nothing outside the container reaches it`);
    if (p.role === 'scheduler' || p.role === 'worker' || p.role === 'projector') {
      if (LOOPBACK.test(config.health.host))
        problems.push(
          `${name}: health and metrics bind ${config.health.host}; Prometheus cannot scrape them`,
        );
      if (!config.health.port) problems.push(`${name}: set a fixed health port (DAGRUN_HEALTH_PORT)`);
    }
    if (p.role === 'worker') {
      const option = p.invocation.command.options.find((o) => o.long === '--scripts-dir');
      const dir = optionValue(p.invocation, '--scripts-dir') ?? (option?.defaultValue as string | undefined);
      if (dir && dir !== '.' && !mountsOf(p.service).some((m) => m.target === dir))
        problems.push(`${name}: --scripts-dir ${dir} is not mounted`);
    }
    const listening = listenPorts(p);
    for (const port of containerPortsOf(p.service))
      if (!listening.includes(port)) problems.push(`${name}: publishes ${port}, where it does not listen`);
    const healthUrl = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)\//.exec(
      argvOf(p.service.healthcheck?.test).join(' '),
    );
    if (healthUrl && Number(healthUrl[1]) !== metricsPort(p))
      problems.push(
        `${name}: the healthcheck asks port ${healthUrl[1]}, the process serves ${metricsPort(p)}`,
      );
    if (long.has(p.role ?? '') && !p.service.healthcheck?.test) problems.push(`${name}: no healthcheck`);
  }
  return problems;
}

function listenPorts(p: DagrunProcess): number[] {
  const c = p.config;
  if (!c) return [];
  const ports = [metricsPort(p)];
  if (p.role === 'scheduler') ports.push(c.cluster.dispatch.port);
  return ports.filter((port): port is number => port !== undefined);
}

function checkDatabaseUrl(d: Deployment, p: DagrunProcess): string[] {
  const raw = p.config?.databaseUrl;
  if (!raw) return [`${p.name}: DATABASE_URL is not set`];
  const url = new URL(raw);
  const postgres = d.service(url.hostname);
  if (!postgres || !/^postgres:/.test(postgres.image ?? ''))
    return [`${p.name}: DATABASE_URL names ${url.hostname}, which is no postgres service`];
  const { env } = environmentOf(postgres);
  const expected = {
    user: env['POSTGRES_USER'] ?? 'postgres',
    password: env['POSTGRES_PASSWORD'],
    database: env['POSTGRES_DB'] ?? env['POSTGRES_USER'] ?? 'postgres',
    port: '5432',
  };
  const actual = {
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    port: url.port || '5432',
  };
  return (Object.keys(expected) as (keyof typeof expected)[])
    .filter((key) => expected[key] !== actual[key])
    .map(
      (key) =>
        `${p.name}: DATABASE_URL's ${key} is ${actual[key]}, the ${url.hostname} service's is ${expected[key]}`,
    );
}

/** The store switch documented in the compose file parses, and names the eventstoredb service. */
export function checkEventStoreSwitch(d: Deployment): string[] {
  const url = d.compose['x-eventstoredb-url'];
  if (typeof url !== 'string') return ['x-eventstoredb-url: missing (the ESDB_URL to switch to)'];
  const problems: string[] = [];
  const host = /^esdb:\/\/([^:/?]+):(\d+)/.exec(url);
  const esdb = host ? d.service(host[1] as string) : undefined;
  if (!host || !esdb || !/eventstore/.test(esdb.image ?? '') || host[2] !== '2113')
    problems.push(`x-eventstoredb-url: ${url} does not name the eventstoredb service on 2113`);
  for (const p of d.processes.filter((q) => q.role === 'scheduler' || q.role === 'worker')) {
    try {
      loadConfig({ ...p.env, DAGRUN_EVENT_STORE: 'eventstoredb', ESDB_URL: url }, p.flags);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((problem) => `${p.name} switched to eventstoredb: ${problem}`));
    }
  }
  return problems;
}

// ---- etcd ---------------------------------------------------------------------------------------

export interface EtcdMember {
  readonly service: string;
  /** Flag name (without --) to value, from the command and ETCD_* variables. */
  readonly settings: ReadonlyMap<string, string>;
}

export function etcdMembers(d: Deployment): EtcdMember[] {
  return d.servicesByImage(/(^|\/)etcd:/).map(([name, service]) => {
    const settings = new Map<string, string>();
    for (const [key, value] of Object.entries(environmentOf(service).env)) {
      if (key.startsWith('ETCD_')) settings.set(key.slice(5).toLowerCase().replaceAll('_', '-'), value);
    }
    const argv = argvOf(service.command);
    for (let i = 0; i < argv.length; i++) {
      const token = argv[i] as string;
      if (!token.startsWith('--')) continue;
      const eq = token.indexOf('=');
      if (eq >= 0) settings.set(token.slice(2, eq), token.slice(eq + 1));
      else if (argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('--'))
        settings.set(token.slice(2), argv[++i] as string);
      else settings.set(token.slice(2), 'true');
    }
    return { service: name, settings };
  });
}

/** The members agree on the initial cluster, and each is in it under its own name and peer URL. */
export function checkEtcdCluster(d: Deployment): string[] {
  const members = etcdMembers(d);
  const problems: string[] = [];
  if (members.length < 3 || members.length % 2 === 0)
    problems.push(`etcd: ${members.length} members; run an odd number, at least 3, to survive losing one`);
  const clusters = members.map((m) => m.settings.get('initial-cluster') ?? '');
  const canonical = (list: string) =>
    list
      .split(',')
      .map((s) => s.trim())
      .sort()
      .join(',');
  if (new Set(clusters.map(canonical)).size > 1)
    problems.push(`etcd: the members' --initial-cluster lists differ: ${clusters.join(' | ')}`);
  for (const key of ['initial-cluster-token', 'initial-cluster-state']) {
    const values = new Set(members.map((m) => m.settings.get(key)));
    if (values.size > 1) problems.push(`etcd: the members' --${key} differ: ${[...values].join(', ')}`);
  }
  for (const m of members) {
    const s = m.settings;
    const name = s.get('name');
    const peers = new Map(
      (s.get('initial-cluster') ?? '').split(',').map((entry) => {
        const at = entry.indexOf('=');
        return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()] as const;
      }),
    );
    const own = s.get('initial-advertise-peer-urls');
    if (!name) problems.push(`${m.service}: no --name`);
    else if (peers.get(name) !== own)
      problems.push(`${m.service}: --initial-cluster has ${name}=${peers.get(name)}, it advertises ${own}`);
    if (peers.size !== members.length)
      problems.push(
        `${m.service}: --initial-cluster lists ${peers.size} members, compose runs ${members.length}`,
      );
    for (const key of ['initial-advertise-peer-urls', 'advertise-client-urls']) {
      const url = s.get(key);
      if (!url || new URL(url).hostname !== m.service)
        problems.push(`${m.service}: --${key} ${url} must name the service (${m.service})`);
    }
    for (const key of ['listen-client-urls', 'listen-peer-urls']) {
      if (!s.get(key)?.includes('0.0.0.0')) problems.push(`${m.service}: --${key} must listen on 0.0.0.0`);
    }
  }
  return problems;
}

// ---- Prometheus ---------------------------------------------------------------------------------

export interface PrometheusConfig {
  readonly scrape_configs?: readonly {
    readonly job_name: string;
    readonly metrics_path?: string;
    readonly scheme?: string;
    readonly static_configs?: readonly { readonly targets: readonly string[] }[];
  }[];
}

/** Every target is a compose service on the port it serves /metrics on; every dagrun process is scraped. */
export function checkPrometheus(d: Deployment): string[] {
  const problems: string[] = [];
  const [prometheus] = d.servicesByImage(/prometheus/);
  if (!prometheus) return ['no prometheus service'];
  const [promName, promService] = prometheus;
  const args = argvOf(promService.command);
  const configFile =
    args.find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length) ??
    '/etc/prometheus/prometheus.yml';
  const listen = Number(
    args
      .find((a) => a.startsWith('--web.listen-address='))
      ?.split(':')
      .pop() ?? 9090,
  );
  if (!mountsOf(promService).some((m) => m.target === configFile && m.source === './deploy/prometheus.yml'))
    problems.push(`${promName}: mount ./deploy/prometheus.yml at ${configFile}`);
  const scraped = new Map<string, number>();
  const jobs = new Set<string>();
  for (const job of d.prometheus.scrape_configs ?? []) {
    if (jobs.has(job.job_name)) problems.push(`prometheus.yml: job ${job.job_name} twice`);
    jobs.add(job.job_name);
    if (job.metrics_path !== undefined && job.metrics_path !== '/metrics')
      problems.push(
        `prometheus.yml ${job.job_name}: dagrun and etcd serve /metrics, not ${job.metrics_path}`,
      );
    if (job.scheme !== undefined && job.scheme !== 'http')
      problems.push(`prometheus.yml ${job.job_name}: scheme http`);
    for (const target of (job.static_configs ?? []).flatMap((c) => c.targets)) {
      const [host = '', portText = ''] = target.split(':');
      const port = Number(portText);
      const at = `prometheus.yml ${job.job_name} ${target}`;
      if (host === 'localhost' || host === '127.0.0.1') {
        if (port !== listen) problems.push(`${at}: localhost is Prometheus itself, on ${listen}`);
        continue;
      }
      const service = d.service(host);
      if (!service) {
        problems.push(`${at}: no service ${host}`);
        continue;
      }
      scraped.set(host, (scraped.get(host) ?? 0) + 1);
      const process = d.processes.find((p) => p.name === host);
      const member = etcdMembers(d).find((m) => m.service === host);
      const expected = process
        ? metricsPort(process)
        : member
          ? Number(
              new URL((member.settings.get('listen-client-urls') ?? '').split(',')[0] ?? '').port || 2379,
            )
          : undefined;
      if (expected === undefined) problems.push(`${at}: ${host} serves no /metrics that this check knows of`);
      else if (port !== expected) problems.push(`${at}: ${host} serves /metrics on ${expected}`);
    }
  }
  for (const p of d.processes) {
    if (p.role === 'migrate') continue;
    const times = scraped.get(p.name) ?? 0;
    if (times !== 1) problems.push(`prometheus.yml: ${p.name} is scraped ${times} times (once, please)`);
  }
  return problems;
}

// ---- Grafana ------------------------------------------------------------------------------------

const PROVISIONING = '/etc/grafana/provisioning';

/** The mounted provisioning exists, and its datasources point at this compose file's services. */
export function checkGrafana(d: Deployment): string[] {
  const [grafana] = d.servicesByImage(/grafana\//);
  if (!grafana) return ['no grafana service'];
  const [name, service] = grafana;
  const problems: string[] = [];
  // The innermost bind mount holding a container path gives its path in the repository.
  const mounts = mountsOf(service)
    .filter((m) => m.bind && m.source)
    .sort((a, b) => b.target.length - a.target.length);
  const hostPathOf = (target: string): string | undefined => {
    for (const m of mounts) {
      if (target === m.target) return m.source;
      if (target.startsWith(`${m.target}/`)) return `${m.source}${target.slice(m.target.length)}`;
    }
    return undefined;
  };
  const { env } = environmentOf(service);

  const datasourcesDir = hostPathOf(`${PROVISIONING}/datasources`);
  const dashboardsDir = hostPathOf(`${PROVISIONING}/dashboards`);
  if (!datasourcesDir) problems.push(`${name}: nothing mounted at ${PROVISIONING}/datasources`);
  if (!dashboardsDir) problems.push(`${name}: nothing mounted at ${PROVISIONING}/dashboards`);
  if (!datasourcesDir || !dashboardsDir) return problems;

  // Grafana expands ${VAR} from its environment in provisioning files (comments aside).
  const datasources = yamlFilesIn(datasourcesDir).flatMap((file) => {
    const parsed = parseYaml(readRepoFile(file)) as { datasources?: unknown[] };
    const text = JSON.stringify(parsed.datasources ?? []);
    for (const [, variable] of text.matchAll(/\$\{([A-Z0-9_]+)\}/g)) {
      if (!env[variable as string]) problems.push(`${name}: ${file} needs ${variable}, which is not set`);
    }
    return JSON.parse(
      text.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, v: string) => JSON.stringify(env[v] ?? '').slice(1, -1)),
    ) as Datasource[];
  });
  for (const ds of datasources) {
    if (ds.type.includes('postgres')) {
      const [host = '', port = '5432'] = ds.url.split(':');
      const postgres = d.service(host);
      if (!postgres || !/^postgres:/.test(postgres.image ?? '')) {
        problems.push(`${name}: datasource ${ds.uid} points at ${ds.url}, not the compose postgres`);
        continue;
      }
      const pg = environmentOf(postgres).env;
      if (port !== '5432')
        problems.push(`${name}: datasource ${ds.uid} port ${port}; postgres listens on 5432`);
      if (ds.jsonData?.database !== pg['POSTGRES_DB'])
        problems.push(
          `${name}: datasource ${ds.uid} database ${ds.jsonData?.database}; postgres has ${pg['POSTGRES_DB']}`,
        );
      if (
        ds.user !== pg['DAGRUN_GRAFANA_PG_USER'] ||
        env['DAGRUN_GRAFANA_PG_PASSWORD'] !== pg['DAGRUN_GRAFANA_PG_PASSWORD']
      )
        problems.push(
          `${name}: datasource ${ds.uid} logs in as a role the postgres init script does not create`,
        );
    }
    if (ds.type === 'prometheus') {
      const url = new URL(ds.url);
      const prometheus = d.service(url.hostname);
      if (!prometheus || !/prometheus/.test(prometheus.image ?? '') || url.port !== '9090')
        problems.push(`${name}: datasource ${ds.uid} points at ${ds.url}, not the compose prometheus`);
    }
  }

  const providers = yamlFilesIn(dashboardsDir).flatMap(
    (file) =>
      (parseYaml(readRepoFile(file)) as { providers?: { options?: { path?: string } }[] }).providers ?? [],
  );
  const uids = new Set(datasources.map((ds) => ds.uid));
  for (const provider of providers) {
    const path = provider.options?.path ?? '';
    const dir = hostPathOf(path);
    const dashboards =
      dir && existsSync(join(ROOT, dir))
        ? readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json'))
        : [];
    if (dashboards.length === 0) {
      problems.push(`${name}: the dashboards provider reads ${path}, where no dashboard is mounted`);
      continue;
    }
    for (const file of dashboards) {
      for (const [, uid] of readRepoFile(`${dir}/${file}`).matchAll(
        /"datasource":\s*\{[^}]*"uid":\s*"([^"$]+)"/g,
      )) {
        if (!uids.has(uid as string))
          problems.push(`${name}: ${file} uses datasource ${uid}, which is not provisioned`);
      }
    }
  }
  return problems;
}

interface Datasource {
  readonly uid: string;
  readonly type: string;
  readonly url: string;
  readonly user?: string;
  readonly jsonData?: { readonly database?: string };
}

function yamlFilesIn(dir: string): string[] {
  const path = join(ROOT, dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) return [];
  return readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`);
}

// ---- The image ----------------------------------------------------------------------------------

export function checkDockerfile(files: DeployFiles): string[] {
  const problems: string[] = [];
  const text = files.dockerfile;
  const from = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  if (!from.length || from.some((image) => image !== 'node:20-bookworm-slim'))
    problems.push(`Dockerfile: build on node:20-bookworm-slim (found ${from.join(', ')})`);
  if (!/RUN npm ci\b/.test(text)) problems.push('Dockerfile: install with npm ci');
  if (!/npm run build\b/.test(text)) problems.push('Dockerfile: compile with npm run build');
  if (!/\bpython3\b/.test(text)) problems.push('Dockerfile: python3 is needed for python tasks');
  if (!/COPY\s+migrations\b/.test(text))
    problems.push('Dockerfile: dagrun migrate reads migrations/ at run time');
  const users = [...text.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  const last = users[users.length - 1];
  if (!last || last === 'root' || last === '0') problems.push('Dockerfile: run as a non-root USER');
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(text)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  if (argv[argv.length - 1] !== 'dagrun')
    problems.push('Dockerfile: ENTRYPOINT must end in dagrun (exec form)');
  const ignored = files.dockerignore.split('\n').map((line) => line.trim());
  for (const required of ['node_modules', 'dist', '.git', '.dagrun'])
    if (!ignored.includes(required)) problems.push(`.dockerignore: add ${required}`);
  for (const needed of ['src', 'bin', 'migrations', 'package.json', 'package-lock.json', 'tsconfig.json'])
    if (ignored.includes(needed)) problems.push(`.dockerignore: the build needs ${needed}`);
  return problems;
}
