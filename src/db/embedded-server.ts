/**
 * The server process: start it and wait until it accepts connections, stop the orphan of an
 * earlier dagrun, make sure the `dagrun` database exists, and choose a port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { PostgresBinaries } from './embedded-binaries.js';
import { childEnv, DATABASE, type RunAs, SUPERUSER, serverSettings, tail } from './embedded-cluster.js';
import { EmbeddedPostgresError } from './embedded-errors.js';
import {
  errorCode,
  inspectPostmaster,
  readPostmasterPid,
  type ShutdownMode,
  sleep,
  stopPostmaster,
} from './embedded-process.js';

/** Receives what the embedded server's lifecycle has to say; adapt a winston logger with `logger.log`. */
export type EmbeddedPostgresLog = (
  level: 'debug' | 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

/** Keeps postgres.log from growing forever: past this size it is rotated to postgres.log.1 at start. */
const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
const PORT_IN_USE = /could not create any TCP\/IP sockets|Address already in use/;

/** A postmaster we spawned. */
export interface RunningServer {
  readonly child: ChildProcess;
  readonly port: number;
  /** Set when the postmaster has exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** What {@link launchServer} needs to start a server on an existing cluster. */
export interface LaunchOptions {
  readonly binaries: PostgresBinaries;
  readonly pgdata: string;
  readonly logFile: string;
  readonly runAs: RunAs | undefined;
  readonly port: number;
  readonly settings: Readonly<Record<string, string>>;
  /** What the server's environment is made from (see `childEnv`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Spawns the postmaster and waits until its pid file says `ready`, which is how pg_ctl waits. */
export async function launchServer(options: LaunchOptions, timeoutMs: number): Promise<RunningServer> {
  const { binaries, pgdata, logFile, runAs, port } = options;
  const size = (await stat(logFile).catch(() => undefined))?.size ?? 0;
  if (size > LOG_ROTATE_BYTES) await rename(logFile, `${logFile}.1`);
  const out = await open(logFile, 'a');
  const logOffset = size > LOG_ROTATE_BYTES ? 0 : size;
  let child: ChildProcess;
  try {
    child = spawn(binaries.postgres, ['-D', pgdata, ...serverSettings(port, options.settings)], {
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      env: childEnv(options.env),
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
  } finally {
    // The child holds its own copy of the descriptor.
    await out.close();
  }
  const server: RunningServer = { child, port };
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  child.once('exit', (code, signal) => {
    server.exit = { code, signal };
  });

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      throw new EmbeddedPostgresError(
        'embedded_postgres_start_failed',
        `could not run ${binaries.postgres}`,
        {},
        {
          cause: spawnError,
        },
      );
    }
    if (server.exit) {
      const output = await readFrom(logFile, logOffset);
      if (PORT_IN_USE.test(output)) throw portInUse(port);
      throw new EmbeddedPostgresError(
        'embedded_postgres_start_failed',
        `Postgres exited during start-up (${server.exit.signal ?? `exit ${server.exit.code}`}); ` +
          `from ${logFile}:\n${tail(output)}`,
        { logFile },
      );
    }
    const pidFile = await readPostmasterPid(pgdata);
    if (pidFile && pidFile.pid === child.pid && pidFile.status === 'ready') return server;
    if (Date.now() >= deadline) {
      if (child.pid !== undefined) await stopPostmaster(child.pid).catch(() => {});
      throw new EmbeddedPostgresError(
        'embedded_postgres_start_failed',
        `Postgres did not accept connections within ${timeoutMs / 1000} s; from ${logFile}:\n` +
          tail(await readFrom(logFile, logOffset)),
        { logFile },
      );
    }
    await sleep(10);
  }
}

/**
 * A postmaster.pid left by an earlier server: stop that server if it is ours and still running,
 * drop the file if its process is gone or is something else (a recycled pid would make Postgres
 * refuse to start), and refuse if we cannot tell. Returns the pid of a stopped orphan.
 */
export async function stopOrphan(pgdata: string, log: EmbeddedPostgresLog): Promise<number | undefined> {
  const pidFile = await readPostmasterPid(pgdata);
  if (!pidFile) return undefined;
  const ownership = await inspectPostmaster(pidFile.pid, pgdata);
  switch (ownership) {
    case 'ours': {
      log('warn', 'stopping an orphaned embedded Postgres left by a dagrun that did not stop it', {
        pid: pidFile.pid,
        pgdata,
      });
      let mode: ShutdownMode;
      try {
        mode = await stopPostmaster(pidFile.pid);
      } catch (error) {
        throw new EmbeddedPostgresError(
          'embedded_postgres_start_failed',
          `an orphaned Postgres (pid ${pidFile.pid}) runs on ${pgdata} and could not be stopped: ${errorCode(error) ?? error}`,
          { pid: pidFile.pid, pgdata },
          { cause: error },
        );
      }
      // A fast or immediate shutdown removes the pid file; a killed postmaster leaves it.
      await rm(join(pgdata, 'postmaster.pid'), { force: true });
      log('info', 'orphaned embedded Postgres stopped', { pid: pidFile.pid, mode });
      return pidFile.pid;
    }
    case 'not-ours':
      log('info', 'removing a stale postmaster.pid', { pid: pidFile.pid, pgdata });
      await rm(join(pgdata, 'postmaster.pid'), { force: true });
      return undefined;
    case 'unknown':
      throw new EmbeddedPostgresError(
        'embedded_postgres_start_failed',
        `a postgres process (pid ${pidFile.pid}) may be running on ${pgdata}, and dagrun cannot inspect it ` +
          '(it belongs to another user). Stop it, then start dagrun again.',
        { pid: pidFile.pid, pgdata },
      );
    default: {
      const exhaustive: never = ownership;
      throw new Error(`unknown ownership ${exhaustive}`);
    }
  }
}

/** Creates the `dagrun` database if this cluster lacks it (first start, or a start cut short). */
export async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
  } finally {
    await client.end();
  }
}

/** The error for a port that another process holds. */
export function portInUse(port: number): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    'embedded_postgres_port_in_use',
    `port ${port} on 127.0.0.1 is in use; choose another port, or leave it unset to pick a free one.`,
    { port },
  );
}

/** Binds and releases a port, as Postgres will bind it (127.0.0.1, SO_REUSEADDR). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', (error) => {
      if (errorCode(error) === 'EADDRINUSE' || errorCode(error) === 'EACCES') resolvePromise(false);
      else reject(error);
    });
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolvePromise(true)));
  });
}

/** A port that is free on 127.0.0.1 right now (the kernel's pick). */
export function pickFreePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePromise(port));
    });
  });
}

async function readFrom(file: string, offset: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.slice(offset);
}
