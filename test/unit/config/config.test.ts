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
      embedded: { createPostgresUser: true },
      workers: { count: 2, concurrency: 8, python: 'python3', inheritedEnv: {} },
    });
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
});
