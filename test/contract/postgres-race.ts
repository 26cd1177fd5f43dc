/**
 * The Postgres side of the contract's optional capabilities: write transactions held open by
 * hand on their own connections, connection counts, and killing LISTEN connections.
 */
import type pg from 'pg';
import { appendToStream } from '../../src/events/postgres/append.js';
import type { OpenTransaction, RaceHelper } from './event-store.contract.js';

/** Transactions on dedicated pool clients; each takes its transaction id at `begin()`. */
export function postgresRaceHelper(pool: pg.Pool): RaceHelper {
  return {
    async begin(): Promise<OpenTransaction> {
      const client = await pool.connect();
      let finished = false;
      const finish = async (command: 'COMMIT' | 'ROLLBACK') => {
        if (finished) return;
        finished = true;
        try {
          await client.query(command);
        } finally {
          client.release();
        }
      };
      try {
        await client.query('BEGIN');
        // Its place in the global order is fixed here, not at its first insert.
        await client.query('SELECT pg_current_xact_id()');
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      return {
        append: (stream, events, expected, options) =>
          appendToStream(client, stream, events, expected, {
            retryOnDuplicate: false,
            fence: options?.fence,
          }),
        commit: () => finish('COMMIT'),
        rollback: () => finish('ROLLBACK'),
      };
    },
  };
}

/** Connections to this database whose application name starts with `applicationPrefix`. */
export async function countConnections(admin: pg.Pool, applicationPrefix: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND starts_with(application_name, $1)`,
    [applicationPrefix],
  );
  return rows[0]!.n;
}

/** Terminates this database's connections named exactly `applicationName`; returns how many. */
export async function terminateConnections(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = $1`,
    [applicationName],
  );
  return rows[0]!.n;
}
