/**
 * Applies the SQL files in migrations/ in name order, each once. The whole run holds a
 * transaction-scoped advisory lock, so two `dagrun migrate` at once serialize: the second waits,
 * then finds nothing left to do. Each file runs in the same transaction as its bookkeeping row,
 * so a failed migration leaves no trace.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** Arbitrary but fixed: the advisory lock key that serializes migrations ("dagrun" in ASCII). */
const MIGRATION_LOCK_KEY = 0x646167_72756e;

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface MigrationReport {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

export async function migrate(pool: pg.Pool, dir: string = MIGRATIONS_DIR): Promise<MigrationReport> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS dagrun_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await client.query<{ name: string }>('SELECT name FROM dagrun_migrations')).rows.map((r) => r.name),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query(await readFile(join(dir, file), 'utf8'));
      await client.query('INSERT INTO dagrun_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
    await client.query('COMMIT');
    return { applied, alreadyApplied: files.filter((f) => done.has(f)) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
