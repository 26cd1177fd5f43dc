/**
 * The EventStore contract against the EventStoreDB adapter and a real server: the one at
 * `ESDB_URL` (e.g. `esdb://localhost:2113?tls=false`), else one started in Docker with
 * testcontainers when a container runtime is reachable (image `ESDB_IMAGE`, default
 * eventstore/eventstore:24.10, insecure, in memory). With neither, the whole contract is reported
 * as skipped, under a name that says how to run it — it never passes without a server.
 *
 * No race helper and no connection counts: those tests are Postgres-specific and report skipped.
 * The fenced-append window is a documented limitation (src/events/eventstoredb/fences.ts).
 */
import { afterAll, describe, it } from 'vitest';
import { EventStoreDbEventStore, FENCE_WINDOW_LIMITATION } from '../../src/events/eventstoredb/index.js';
import { describeEventStoreContract } from './event-store.contract.js';

const SKIPPED = 'EventStoreDB contract (skipped: set ESDB_URL or run a Docker engine)';

interface Server {
  readonly url: string;
  readonly stop?: () => Promise<void>;
}

/** The server to test against, or the reason there is none. */
async function findServer(): Promise<Server | { readonly missing: string }> {
  const configured = process.env['ESDB_URL'];
  if (configured) return { url: configured };
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    return { missing: `no ESDB_URL and no container runtime (${(error as Error).message})` };
  }
  const container = await new GenericContainer(process.env['ESDB_IMAGE'] ?? 'eventstore/eventstore:24.10')
    .withEnvironment({
      EVENTSTORE_INSECURE: 'true',
      EVENTSTORE_MEM_DB: 'true',
      EVENTSTORE_CLUSTER_SIZE: '1',
      EVENTSTORE_RUN_PROJECTIONS: 'None',
    })
    .withExposedPorts(2113)
    .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCode(204))
    .withStartupTimeout(120_000)
    .start();
  return {
    url: `esdb://${container.getHost()}:${container.getMappedPort(2113)}?tls=false`,
    stop: async () => {
      await container.stop();
    },
  };
}

const server = await findServer();

if ('url' in server) {
  afterAll(async () => {
    await server.stop?.();
  });
  describeEventStoreContract('EventStoreDbEventStore', async () => ({
    store: new EventStoreDbEventStore({ connectionString: server.url }),
    knownLimitations: { fencedAppendRace: FENCE_WINDOW_LIMITATION },
  }));
} else {
  describe.skip(SKIPPED, () => {
    it(`runs the EventStore contract against a real EventStoreDB — ${server.missing}`, () => {});
  });
}
