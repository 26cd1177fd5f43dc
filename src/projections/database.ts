/**
 * The three ways this module gets a kysely instance: over the shared pool (queries), over one
 * checked-out connection (the projector's batches), and with no connection at all (handlers,
 * which only compile SQL).
 */
import { createHash } from 'node:crypto';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  type PostgresPool,
  type PostgresPoolClient,
  PostgresQueryCompiler,
} from 'kysely';
import type pg from 'pg';
import type { ReadModelDatabase } from './schema.js';

/**
 * A kysely instance over the shared pool. The pool stays the caller's: `destroy()` on the result
 * releases nothing and never ends the pool, so several rooms can share one pool safely.
 */
export function createReadModelDb(pool: pg.Pool): Kysely<ReadModelDatabase> {
  const borrowed: PostgresPool = {
    connect: () => pool.connect(),
    end: async () => {},
  };
  return new Kysely<ReadModelDatabase>({ dialect: new PostgresDialect({ pool: borrowed }) });
}

/**
 * A kysely instance bound to one connection the caller holds (and releases). Every query and
 * transaction runs on that connection, so a session-level advisory lock taken on it covers them.
 */
export function singleConnectionDb(client: pg.PoolClient): Kysely<ReadModelDatabase> {
  // The same wrapper every time (kysely caches one connection object per client); release is a
  // no-op because the connection goes back to the pool only when the caller says so.
  const wrapper = {
    query: (text: string, values: readonly unknown[]) =>
      // A script (no parameters: several statements, simple protocol) is never prepared.
      client.query(values.length > 0 ? { text, values: [...values], name: statementName(text) } : { text }),
    release: () => {},
  } as unknown as PostgresPoolClient;
  const pinned: PostgresPool = { connect: async () => wrapper, end: async () => {} };
  return new Kysely<ReadModelDatabase>({ dialect: new PostgresDialect({ pool: pinned }) });
}

/** Most distinct statements prepared; any beyond are planned each time they run. */
const MAX_PREPARED = 200;
const preparedNames = new Map<string, string>();

/**
 * The prepared-statement name for `text` (undefined past the cap). Queries with parameters on the
 * projector's connection (the checkpoint's) are prepared once per connection, saving a parse and
 * a plan each time. (Batches used to run here statement by statement, prepared: 2.3× faster than
 * unnamed statements on a quiet machine. They now go as one script (script.ts): on a busy one
 * every round trip waits ~3 ms for the backend to be scheduled.)
 *
 * The name is a hash of the text, the same in every session: node-postgres remembers which names
 * a connection has prepared, and a pooled connection that served an earlier session must never
 * see one name stand for two texts.
 */
function statementName(text: string): string | undefined {
  const known = preparedNames.get(text);
  if (known !== undefined || preparedNames.size >= MAX_PREPARED) return known;
  const name = `dagrun_projection_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
  preparedNames.set(text, name);
  return name;
}

/**
 * A kysely instance that can only compile: handlers build their SQL with it and return the
 * compiled queries, so they stay pure functions of the event (no connection, no I/O).
 */
export const compiler = new Kysely<ReadModelDatabase>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
