/**
 * `dagrun api`: the REST API as a process of its own (distributed deployment). It serves the read
 * models and appends commands to the log in DATABASE_URL, with neither an engine nor a projector
 * in process: `dagrun scheduler`, `dagrun worker` and `dagrun projector` do that work. Run as many
 * as you like behind a load balancer.
 *
 * What a standalone API reads from the engine and projector in its process comes from Postgres
 * here: the projector's lag and state from its checkpoint and lock (ProjectionWatcher; read your
 * writes polls the checkpoint), the scheduler's backlog — what load shedding compares with
 * DAGRUN_MAX_BACKLOG — and the workers from the read models (ReadModelEstimates, refreshed every
 * second). /health/ready needs Postgres, the event store and an active projector within the lag
 * limit; /health reports the scheduler's backlog estimate and the workers the read models show.
 *
 * SIGINT/SIGTERM: stop accepting, end open connections (event streams too), exit 0.
 */
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ReadModelEstimates } from '../../api/read-model-estimates.js';
import { assertSafeAuth, startApiServer } from '../../api/server.js';
import { startTracing } from '../../observability/tracing.js';
import { createReadModelDb, ProjectionWatcher, ReadModelQueries } from '../../projections/index.js';
import { shutdownSignal } from '../cluster.js';
import { type GlobalOptions, runAction } from '../context.js';
import { openServiceDatabase } from '../runtime.js';

/** The port `dagrun api` listens on when neither --port nor DAGRUN_PORT says otherwise. */
export const DEFAULT_API_PORT = 8080;

export function registerApiCommand(program: Command): void {
  program
    .command('api')
    .description('serve the REST API over the shared database (no engine, no projector in process)')
    .option('--port <port>', `API port; 0: any free port (env DAGRUN_PORT; default ${DEFAULT_API_PORT})`)
    .option('--host <host>', 'API address (env DAGRUN_HOST; default 127.0.0.1; other hosts need tokens)')
    .action(async (flags: { port?: string; host?: string }, command: Command) => {
      await runAction(
        command.optsWithGlobals<GlobalOptions>(),
        async (ctx) => {
          const { config, log } = ctx;
          const api = { ...config.api, port: config.api.port ?? DEFAULT_API_PORT };
          assertSafeAuth(api); // before touching the database: a misconfiguration fails fast
          const shutdown = shutdownSignal();
          const tracing = await startTracing(config.tracing, 'api', { log });
          const db = await openServiceDatabase(config, 'dagrun-api', log, shutdown.signal);
          const registry = new Registry();
          collectDefaultMetrics({ register: registry });
          const projector = await new ProjectionWatcher({
            pool: db.pool,
            store: db.store,
            log,
            registry,
          }).start();
          const estimates = await new ReadModelEstimates({
            queries: new ReadModelQueries(createReadModelDb(db.pool)),
            maxBacklog: config.maxBacklog,
            log,
            registry,
          }).start();
          const server = await startApiServer({
            store: db.store,
            pool: db.pool,
            projector,
            estimates,
            registry,
            log,
            api,
            maxSpecBytes: config.maxSpecBytes,
          });
          log.info('API listening', { url: server.url });
          ctx.out(`dagrun api: API on ${server.url} (docs at ${server.url}/docs)`);
          const signal = await shutdown.received;
          log.info('shutting down', { signal });
          await server.close();
          await estimates.stop();
          await projector.stop();
          await db.close();
          await tracing.shutdown();
          log.info('api stopped');
          return 0;
        },
        { DAGRUN_PORT: flags.port, DAGRUN_HOST: flags.host },
      );
    });
}
