/** The EventStore contract against the Postgres adapter, each test with a fresh store and pool. */
import { PostgresEventStore } from '../../src/events/postgres/index.js';
import { createTestDatabase } from '../support/database.js';
import { describeEventStoreContract } from './event-store.contract.js';
import { countConnections, postgresRaceHelper, terminateConnections } from './postgres-race.js';

const database = await createTestDatabase();

describeEventStoreContract('PostgresEventStore', async () => {
  const store = new PostgresEventStore({ connectionString: database.url, poolSize: 12 });
  return {
    store,
    race: postgresRaceHelper(store.connectionPool),
    connectionCount: () => countConnections(database.pool, 'dagrun-events'),
    killSubscriptionConnections: () => terminateConnections(database.pool, 'dagrun-events-listen'),
  };
});
