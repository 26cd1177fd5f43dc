/**
 * Finds the Postgres server the tests use (DATABASE_URL, else the local default) and builds the
 * migrated template that every test file clones. Runs in vitest's global setup.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(): string {
  return process.env['DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
}

/** The same server, another database. */
export function urlFor(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export function installHint(url: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return [
    `No PostgreSQL server answers at ${redact(url)} (${reason}).`,
    'Start one, or point DATABASE_URL at one (postgres://user@host:port/db). On Debian:',
    '  apt-get install -y postgresql && pg_ctlcluster $(ls /etc/postgresql) main start',
    '.ci/run does this for you.',
  ].join('\n');
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export interface TemplateDatabase {
  readonly name: string;
  readonly runId: string;
  drop(): Promise<void>;
}

/** Creates `dagrun_tpl_<run>` with every migration applied. */
export async function createTemplate(baseUrl: string): Promise<TemplateDatabase> {
  const runId = randomBytes(4).toString('hex');
  const name = `dagrun_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: urlFor(baseUrl, name), max: 1 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return {
    name,
    runId,
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ datname: string }>(
          'SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2',
          [`dagrun_t_${runId}_%`, name],
        );
        for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
