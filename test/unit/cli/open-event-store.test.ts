/** The configuration chooses the event store every process opens. */
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { openEventStore } from '../../../src/cli/runtime.js';
import { loadConfig } from '../../../src/config/index.js';
import { EventStoreDbEventStore } from '../../../src/events/eventstoredb/index.js';
import { PostgresEventStore } from '../../../src/events/postgres/index.js';

// Never connects: neither store touches its backend until it is used.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
afterAll(() => pool.end());

/** The adapter under the schema-validating wrapper (reached through its close()). */
async function adapterOf(config: ReturnType<typeof loadConfig>): Promise<unknown> {
  const seen: unknown[] = [];
  const original = { pg: PostgresEventStore.prototype.close, esdb: EventStoreDbEventStore.prototype.close };
  PostgresEventStore.prototype.close = async function (this: unknown) {
    seen.push(this);
  };
  EventStoreDbEventStore.prototype.close = async function (this: unknown) {
    seen.push(this);
  };
  try {
    await openEventStore(config, pool).close();
  } finally {
    PostgresEventStore.prototype.close = original.pg;
    EventStoreDbEventStore.prototype.close = original.esdb;
  }
  return seen[0];
}

test('postgres by default', async () => {
  expect(await adapterOf(loadConfig({}))).toBeInstanceOf(PostgresEventStore);
});

test('EventStoreDB when DAGRUN_EVENT_STORE=eventstoredb, at ESDB_URL', async () => {
  const config = loadConfig({ DAGRUN_EVENT_STORE: 'eventstoredb', ESDB_URL: 'esdb://127.0.0.1:1?tls=false' });
  expect(await adapterOf(config)).toBeInstanceOf(EventStoreDbEventStore);
});

test('eventstoredb without ESDB_URL is a configuration error', () => {
  expect(() => loadConfig({ DAGRUN_EVENT_STORE: 'eventstoredb' })).toThrow(/ESDB_URL: required/);
});
