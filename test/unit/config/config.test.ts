import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ConfigError } from '../../../src/errors.js';

describe('loadConfig', () => {
  it('fills defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      databaseUrl: undefined,
      dataDir: '.dagrun',
      log: { level: 'info', format: 'json' },
      eventStore: { kind: 'postgres' },
      etcdEndpoints: undefined,
      maxSpecBytes: 1024 * 1024,
      dbPoolSize: 10,
      embedded: { createPostgresUser: true, serverEnv: {} },
      workers: { count: 2, concurrency: 8, claimAhead: undefined, python: 'python3', inheritedEnv: {} },
      api: {
        port: undefined,
        host: '127.0.0.1',
        tokens: [],
        openHealth: true,
        maxBodyBytes: 1024 * 1024,
        requestTimeoutMs: 30_000,
        maxProjectorLagMs: 10_000,
        readYourWritesMs: 2_000,
      },
      maxBacklog: 1000,
      health: { host: '127.0.0.1', port: undefined },
      cluster: {
        token: undefined,
        leaseTtlSeconds: 5,
        etcdPrefix: '/dagrun/',
        dispatch: { host: '127.0.0.1', port: 7401, advertise: undefined },
        workerId: undefined,
        workerLabels: [],
        drainGraceMs: 30_000,
      },
      tracing: { exporters: [], otlpTracesUrl: undefined, serviceName: undefined },
    });
  });

  it('reads the cluster settings and refuses bad ones, all at once', () => {
    const config = loadConfig({
      DAGRUN_CLUSTER_TOKEN: 'a-cluster-secret-of-16+',
      DAGRUN_LEASE_TTL_S: '2',
      DAGRUN_WORKER_LABELS: 'gpu, ssd,,',
      DAGRUN_DISPATCH_ADVERTISE: 'http://scheduler-1:7401',
    });
    expect(config.cluster).toMatchObject({
      token: 'a-cluster-secret-of-16+',
      leaseTtlSeconds: 2,
      workerLabels: ['gpu', 'ssd'],
      dispatch: { advertise: 'http://scheduler-1:7401' },
    });
    expect(() =>
      loadConfig({ DAGRUN_CLUSTER_TOKEN: 'short', DAGRUN_LEASE_TTL_S: '1', DAGRUN_ETCD_PREFIX: 'dagrun' }),
    ).toThrow(/DAGRUN_CLUSTER_TOKEN[\s\S]*DAGRUN_LEASE_TTL_S[\s\S]*DAGRUN_ETCD_PREFIX/);
  });

  it('reads the API settings and its tokens with their scopes', () => {
    const config = loadConfig({
      DAGRUN_PORT: '8080',
      DAGRUN_HOST: '0.0.0.0',
      DAGRUN_API_TOKENS: 'ci:ci-token-0123456789:read+write, ops:ops-token-0123456789:admin',
      DAGRUN_API_OPEN_HEALTH: 'false',
    });
    expect(config.api).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      openHealth: false,
      tokens: [
        { name: 'ci', token: 'ci-token-0123456789', scopes: ['read', 'write'] },
        { name: 'ops', token: 'ops-token-0123456789', scopes: ['admin'] },
      ],
    });
  });

  it('lists every malformed token entry without echoing a token', () => {
    const tokens =
      'a:short:read,b:long-enough-token-123:root,c:long-enough-token-456,a:another-token-78901:read,a:x-token-0123456789:read';
    try {
      loadConfig({ DAGRUN_API_TOKENS: tokens, DAGRUN_PORT: '70000' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        'DAGRUN_PORT: Too big: expected number to be <=65535',
        'DAGRUN_API_TOKENS: entry 1: the token must be at least 16 printable characters without spaces',
        'DAGRUN_API_TOKENS: entry 2: scopes must be read, write, admin joined by +',
        'DAGRUN_API_TOKENS: entry 3: expected name:token:scope[+scope]',
        'DAGRUN_API_TOKENS: entry 5: the name a is used twice',
      ]);
      expect((error as ConfigError).message).not.toContain('long-enough-token');
    }
  });

  it('lets flags win over the environment', () => {
    const config = loadConfig(
      { DATABASE_URL: 'postgres://a@h/env', DAGRUN_LOG_LEVEL: 'warn' },
      { DATABASE_URL: 'postgres://a@h/flag' },
    );
    expect(config.databaseUrl).toBe('postgres://a@h/flag');
    expect(config.log.level).toBe('warn');
  });

  it('splits and checks ETCD_ENDPOINTS', () => {
    const config = loadConfig({ ETCD_ENDPOINTS: 'http://127.0.0.1:2379, http://127.0.0.1:22379' });
    expect(config.etcdEndpoints).toEqual(['http://127.0.0.1:2379', 'http://127.0.0.1:22379']);
  });

  it('passes PATH, HOME and the named variables on to tasks, nothing else', () => {
    const config = loadConfig({
      PATH: '/bin',
      HOME: '/h',
      SECRET: 's',
      TZ: 'UTC',
      DAGRUN_TASK_ENV: 'TZ, LANG',
    });
    expect(config.workers.inheritedEnv).toEqual({ PATH: '/bin', HOME: '/h', TZ: 'UTC' });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://x',
        DAGRUN_LOG_LEVEL: 'loud',
        DAGRUN_MAX_SPEC_BYTES: '-5',
        ETCD_ENDPOINTS: 'not a url',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: must be a postgres:\/\//);
    expect(problems.join('\n')).toMatch(/DAGRUN_LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/DAGRUN_MAX_SPEC_BYTES: must be positive/);
    expect(problems.join('\n')).toMatch(/ETCD_ENDPOINTS/);
  });

  it('requires ESDB_URL when the EventStoreDB adapter is chosen', () => {
    expect(() => loadConfig({ DAGRUN_EVENT_STORE: 'eventstoredb' })).toThrow(/ESDB_URL: required/);
    expect(
      loadConfig({ DAGRUN_EVENT_STORE: 'eventstoredb', ESDB_URL: 'esdb://localhost:2113' }).eventStore,
    ).toEqual({
      kind: 'eventstoredb',
      url: 'esdb://localhost:2113',
    });
  });

  it('reads the claim-ahead depth (unset: the engine and workers use 3 per slot)', () => {
    expect(loadConfig({}).workers.claimAhead).toBeUndefined();
    expect(loadConfig({ DAGRUN_WORKER_CLAIM_AHEAD: '0' }).workers.claimAhead).toBe(0);
    expect(loadConfig({ DAGRUN_WORKER_CLAIM_AHEAD: '12' }).workers.claimAhead).toBe(12);
    expect(() => loadConfig({ DAGRUN_WORKER_CLAIM_AHEAD: '-1' })).toThrow(/DAGRUN_WORKER_CLAIM_AHEAD/);
  });

  it('passes the embedded Postgres this environment without its PG* variables', () => {
    const config = loadConfig({ PATH: '/bin', PGDATA: '/elsewhere', PGPORT: '1', LANG: 'x' });
    expect(config.embedded.serverEnv).toEqual({ PATH: '/bin', LANG: 'x' });
  });
});
