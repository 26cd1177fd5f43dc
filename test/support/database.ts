/**
 * A database of its own for a test file, cloned from the migrated template (fast: no migrations
 * per file) and dropped when the file is done.
 */

import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { urlFor } from './postgres-server.js';

let counter = 0;

export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
}

/**
 * Call at the top level of a test file (or in beforeAll); the database is dropped in afterAll.
 * `{ empty: true }` gives a database without the schema (for migration tests).
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const postgres = inject('postgres');
  if (!postgres.ok) throw new Error(postgres.error);
  const name = `dagrun_t_${postgres.runId}_${process.pid}_${counter++}`;
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${options.empty ? 'template0' : postgres.template}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(postgres.adminUrl, name);
  const pool = createPool(url, { max: 20, applicationName: 'dagrun-test' });
  afterAll(async () => {
    await pool.end();
    const client = new pg.Client({ connectionString: postgres.adminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  return { url, pool };
}

/** Endpoints of the run's etcd; throws the install hint when there is none. */
export function etcdEndpoints(): string[] {
  const etcd = inject('etcd');
  if (!etcd.ok) throw new Error(etcd.error);
  return etcd.endpoints;
}
