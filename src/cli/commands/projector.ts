/**
 * `dagrun projector`: the read-model projector as a process of its own (distributed deployment).
 * It follows the log in DATABASE_URL and keeps the read models up to date. Run two for
 * availability: one holds the projection's lock and projects, the other waits on standby and
 * takes over from the checkpoint when the first stops or dies (its lock goes with its
 * connection). Health and metrics are served on --health-port (DAGRUN_HEALTH_PORT):
 *
 * - /health/ready: Postgres answers, and this projector is active or on standby (its `detail`
 *   gives the role, the checkpoint and the lag: its own while active, the active one's — read
 *   from the checkpoint — on standby);
 * - /metrics: default process metrics, `dagrun_projector_lag_seconds` (this process's lag; 0 on
 *   standby), `dagrun_projector_events_applied_total`, `dagrun_projector_active`.
 *
 * SIGINT/SIGTERM: finish the batch in flight, release the lock, exit 0. A projector that fails
 * for good (bad data, a bug) exits 1, so a supervisor restarts it and the standby takes over.
 */
import type { Command } from 'commander';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { startHealthServer } from '../../observability/health-server.js';
import { lagOf, Projector, readProjectionProgress } from '../../projections/index.js';
import { pingDatabase, shutdownSignal } from '../cluster.js';
import { type GlobalOptions, runAction } from '../context.js';
import { openServiceDatabase } from '../runtime.js';

interface ProjectorFlags {
  readonly healthHost?: string;
  readonly healthPort?: string;
}

export function registerProjectorCommand(program: Command): void {
  program
    .command('projector')
    .description('keep the read models up to date from the log (run two: one projects, one stands by)')
    .option('--health-host <host>', 'health and metrics host (env DAGRUN_HEALTH_HOST; default 127.0.0.1)')
    .option('--health-port <port>', 'health and metrics port; 0: any free port (env DAGRUN_HEALTH_PORT)')
    .action(async (flags: ProjectorFlags, command: Command) => {
      await runAction(
        command.optsWithGlobals<GlobalOptions>(),
        async (ctx) => {
          const { config, log } = ctx;
          const shutdown = shutdownSignal();
          const db = await openServiceDatabase(config, 'dagrun-projector', log, shutdown.signal);
          const registry = new Registry();
          collectDefaultMetrics({ register: registry });
          const projector = new Projector({ store: db.store, pool: db.pool, log, registry }).start();
          new Gauge({
            name: 'dagrun_projector_active',
            help: '1 while this projector holds the lock and projects, 0 on standby',
            registers: [registry],
            collect() {
              this.set(projector.status.state === 'running' ? 1 : 0);
            },
          });
          const health = await startHealthServer({
            host: config.health.host,
            port: config.health.port ?? 0,
            registry,
            log,
            checks: {
              postgres: () => pingDatabase(db.pool),
              projector: async () => {
                const status = projector.status;
                const role = status.state === 'running' ? 'active' : status.state;
                if (status.state !== 'standby') {
                  return {
                    ok: status.state === 'running',
                    detail: {
                      role,
                      lagMs: status.lagMs,
                      position: status.position,
                      eventsApplied: status.eventsApplied,
                      ...(status.lastError ? { lastError: status.lastError } : {}),
                    },
                  };
                }
                // On standby the lag that matters is the active projector's, read from the checkpoint.
                const progress = await readProjectionProgress(db.pool, db.store);
                return {
                  ok: true,
                  detail: {
                    role,
                    lagMs: lagOf(progress),
                    position: progress.position,
                    eventsApplied: progress.eventsApplied,
                    activeElsewhere: progress.active,
                  },
                };
              },
            },
          });
          log.info('projector started', { health: health.url });
          ctx.out(`dagrun projector: health on ${health.url}`);
          const failed = projector.done.then(
            () => undefined,
            (error: unknown) => error,
          );
          const outcome = await Promise.race([
            shutdown.received.then((signal) => ({ signal })),
            failed.then((error) => ({ error })),
          ]);
          if ('signal' in outcome) log.info('shutting down', { signal: outcome.signal });
          else log.error('projector stopped', { error: String(outcome.error ?? 'its event store closed') });
          await projector.stop();
          await health.close();
          await db.close();
          log.info('projector stopped');
          return 'signal' in outcome ? 0 : 1;
        },
        { DAGRUN_HEALTH_HOST: flags.healthHost, DAGRUN_HEALTH_PORT: flags.healthPort },
      );
    });
}
