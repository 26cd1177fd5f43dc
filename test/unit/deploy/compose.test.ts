/**
 * docker-compose.yml, deploy/prometheus.yml and the Dockerfile, checked without Docker against
 * the code they start: the real commander program (every subcommand and option compose passes),
 * the configuration schema (every variable compose sets, and loadConfig on each service's
 * environment and flags), the settings each process refuses to start without, the etcd members'
 * initial cluster, the Prometheus targets and the Grafana provisioning. The second half breaks a
 * copy of the files on purpose, one typo at a time, and expects the checks to say so.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCommandsAndEnvironment,
  checkComposeSchema,
  checkDependencies,
  checkDockerfile,
  checkEtcdCluster,
  checkEventStoreSwitch,
  checkGrafana,
  checkImages,
  checkInterpolation,
  checkMounts,
  checkProcessSettings,
  checkPrometheus,
  type DeployFiles,
  Deployment,
  etcdMembers,
  readDeployFiles,
} from './compose-checks.js';

const files = readDeployFiles();
const deployment = new Deployment(files);

describe('the compose topology', () => {
  it('is a valid Compose file (Compose Specification schema)', () => {
    expect(checkComposeSchema(files)).toEqual([]);
  });

  it('runs postgres, 3 etcd members, eventstoredb, migrate, the api, 2 schedulers, 3 workers, the projector, prometheus and grafana', () => {
    const roles = deployment.processes.map((p) => p.role).sort();
    expect(roles).toEqual([
      'api',
      'migrate',
      'projector',
      'scheduler',
      'scheduler',
      'worker',
      'worker',
      'worker',
    ]);
    const labelled = deployment.processes.filter(
      (p) => p.role === 'worker' && p.config?.cluster.workerLabels.length,
    );
    expect(labelled.map((p) => p.config?.cluster.workerLabels)).toEqual([['gpu']]);
    expect(etcdMembers(deployment)).toHaveLength(3);
    for (const image of [/^postgres:16/, /eventstore/, /prometheus/, /grafana/])
      expect(deployment.servicesByImage(image), String(image)).toHaveLength(1);
  });

  it('needs no variable without a default', () => {
    expect(checkInterpolation(deployment)).toEqual([]);
  });

  it('gives every service an image or a build; dagrun services share the image built here', () => {
    expect(checkImages(deployment)).toEqual([]);
  });

  it('mounts only paths that exist in the repository, and declared volumes', () => {
    expect(checkMounts(deployment)).toEqual([]);
  });

  it('orders start-up by conditions the services can meet; every process after migrate', () => {
    expect(checkDependencies(deployment)).toEqual([]);
  });

  it('runs real subcommands with real options, and sets only real settings that loadConfig accepts', () => {
    expect(checkCommandsAndEnvironment(deployment)).toEqual([]);
  });

  it('gives every process what it refuses to start without, reachable from the other containers', () => {
    expect(checkProcessSettings(deployment)).toEqual([]);
  });

  it('documents an event-store switch that parses and names the eventstoredb service', () => {
    expect(checkEventStoreSwitch(deployment)).toEqual([]);
  });

  it('configures one etcd cluster: the same initial cluster on every member, each under its own name', () => {
    expect(checkEtcdCluster(deployment)).toEqual([]);
  });

  it('scrapes every dagrun process and etcd member, on the port it serves /metrics on', () => {
    expect(checkPrometheus(deployment)).toEqual([]);
  });

  it("provisions Grafana from grafana/, pointed at this compose file's postgres and prometheus", () => {
    expect(checkGrafana(deployment)).toEqual([]);
  });

  it('builds a non-root image on node:20-bookworm-slim whose entrypoint is dagrun', () => {
    expect(checkDockerfile(files)).toEqual([]);
  });
});

type Check = (d: Deployment) => string[];

interface Mistake {
  readonly what: string;
  readonly file: keyof DeployFiles;
  readonly from: string | RegExp;
  readonly to: string;
  readonly check: Check;
  readonly expected: RegExp;
}

const schema: Check = (d) => checkComposeSchema(d.files);
const dockerfile: Check = (d) => checkDockerfile(d.files);

const mistakes: Mistake[] = [
  {
    what: 'a misspelt flag',
    file: 'compose',
    from: '--health-port=9464',
    to: '--health-prot=9464',
    check: checkCommandsAndEnvironment,
    expected: /scheduler-1: dagrun scheduler: unknown option --health-prot/,
  },
  {
    what: 'a flag of another subcommand',
    file: 'compose',
    from: '["projector", "--health-host"',
    to: '["projector", "--labels", "x", "--health-host"',
    check: checkCommandsAndEnvironment,
    expected: /projector: dagrun projector: unknown option --labels/,
  },
  {
    what: 'an unknown subcommand',
    file: 'compose',
    from: 'command: ["migrate"]',
    to: 'command: ["migrations"]',
    check: checkCommandsAndEnvironment,
    expected: /migrate: dagrun: unknown command migrations/,
  },
  {
    what: 'a misspelt setting',
    file: 'compose',
    from: 'DAGRUN_LEASE_TTL_S:',
    to: 'DAGRUN_LEASE_TTLS:',
    check: checkCommandsAndEnvironment,
    expected: /worker-1: DAGRUN_LEASE_TTLS is neither a dagrun setting/,
  },
  {
    what: 'a value the schema refuses',
    file: 'compose',
    from: 'DAGRUN_LEASE_TTL_S: "5"',
    to: 'DAGRUN_LEASE_TTL_S: "1"',
    check: checkCommandsAndEnvironment,
    expected: /scheduler-1: DAGRUN_LEASE_TTL_S: /,
  },
  {
    what: 'a cluster process without etcd',
    file: 'compose',
    from: 'ETCD_ENDPOINTS:',
    to: 'ETCD_ENDPOINT:',
    check: checkProcessSettings,
    expected: /worker-2: ETCD_ENDPOINTS: not set/,
  },
  {
    what: 'ETCD_ENDPOINTS missing a member',
    file: 'compose',
    from: ',http://etcd-3:2379',
    to: '',
    check: checkProcessSettings,
    expected: /scheduler-1: ETCD_ENDPOINTS .* are not the etcd members' client URLs/,
  },
  {
    what: 'the API on 0.0.0.0 without tokens',
    file: 'compose',
    from: /\n\s+DAGRUN_API_TOKENS: .*\n/,
    to: '\n',
    check: checkProcessSettings,
    expected: /api: DAGRUN_API_TOKENS: required/,
  },
  {
    what: 'a scheduler advertising the other one',
    file: 'compose',
    from: '--advertise=http://scheduler-2:7401',
    to: '--advertise=http://scheduler-1:7401',
    check: checkProcessSettings,
    expected: /scheduler-2: advertises http:\/\/scheduler-1:7401/,
  },
  {
    what: 'a health port on loopback',
    file: 'compose',
    from: '"--health-host", "0.0.0.0"',
    to: '"--health-host", "127.0.0.1"',
    check: checkProcessSettings,
    expected: /projector: health and metrics bind 127.0.0.1/,
  },
  {
    what: 'a DATABASE_URL with the wrong database',
    file: 'compose',
    from: '@postgres:5432/dagrun',
    to: '@postgres:5432/dagrun_db',
    check: checkProcessSettings,
    expected: /DATABASE_URL's database is dagrun_db, the postgres service's is dagrun/,
  },
  {
    what: 'an etcd member with another initial cluster',
    file: 'compose',
    from: 'etcd-3=http://etcd-3:2380',
    to: 'etcd-3=http://etcd3:2380',
    check: checkEtcdCluster,
    expected: /the members' --initial-cluster lists differ/,
  },
  {
    what: 'an etcd member advertising another peer URL',
    file: 'compose',
    from: '--initial-advertise-peer-urls=http://etcd-2:2380',
    to: '--initial-advertise-peer-urls=http://etcd-2:2381',
    check: checkEtcdCluster,
    expected: /etcd-2: --initial-cluster has etcd-2=http:\/\/etcd-2:2380, it advertises http:\/\/etcd-2:2381/,
  },
  {
    what: 'a Prometheus target on the wrong port',
    file: 'prometheus',
    from: '"projector:9464"',
    to: '"projector:9465"',
    check: checkPrometheus,
    expected: /projector:9465: projector serves \/metrics on 9464/,
  },
  {
    what: 'a process Prometheus does not scrape',
    file: 'prometheus',
    from: ', "worker-gpu:9464"',
    to: '',
    check: checkPrometheus,
    expected: /worker-gpu is scraped 0 times/,
  },
  {
    what: 'a Prometheus target that is no service',
    file: 'prometheus',
    from: '"api:8080"',
    to: '"dagrun-api:8080"',
    check: checkPrometheus,
    expected: /no service dagrun-api/,
  },
  {
    what: 'a Grafana datasource pointing elsewhere',
    file: 'compose',
    from: 'DAGRUN_GRAFANA_PG_HOST: postgres',
    to: 'DAGRUN_GRAFANA_PG_HOST: postgres.local',
    check: checkGrafana,
    expected: /datasource dagrun-postgres points at postgres.local:5432, not the compose postgres/,
  },
  {
    what: 'a mounted path that does not exist',
    file: 'compose',
    from: './grafana/provisioning/dashboards:',
    to: './grafana/provisioning/dashbords:',
    check: checkMounts,
    expected: /grafana: .\/grafana\/provisioning\/dashbords does not exist/,
  },
  {
    what: 'a misspelt compose key',
    file: 'compose',
    from: 'depends_on: *read-side-depends',
    to: 'depend_on: *read-side-depends',
    check: schema,
    expected: /services.api: Unrecognized key: "depend_on"/,
  },
  {
    what: 'waiting for a service that has no healthcheck to be healthy',
    file: 'compose',
    from: 'prometheus: { condition: service_started }',
    to: 'prometheus: { condition: service_healthy }',
    check: checkDependencies,
    expected: /grafana: waits for prometheus to be healthy, but prometheus has no healthcheck/,
  },
  {
    what: 'a variable without a default',
    file: 'compose',
    // Compose's ${VAR} syntax, not a template literal:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation
    from: '${POSTGRES_PASSWORD:-dagrun}@',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose interpolation
    to: '${POSTGRES_PASSWORD}@',
    check: checkInterpolation,
    expected: /\$\{POSTGRES_PASSWORD\} has no default/,
  },
  {
    what: 'an image running as root',
    file: 'dockerfile',
    from: 'USER node',
    to: 'USER root',
    check: dockerfile,
    expected: /non-root USER/,
  },
];

describe('the checks catch mistakes', () => {
  it.each(mistakes)('$what', ({ file, from, to, check, expected }) => {
    const original = files[file];
    const broken = original.replace(from, to);
    expect(broken, `the mistake must change ${file}`).not.toBe(original);
    expect(check(deployment), 'the real files pass').toEqual([]);
    const problems = check(new Deployment({ ...files, [file]: broken }));
    expect(problems.join('\n')).toMatch(expected);
  });
});
