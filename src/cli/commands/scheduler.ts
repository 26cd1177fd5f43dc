/**
 * `dagrun scheduler`: one scheduler of a distributed deployment (run two or more; one leads). It
 * campaigns through etcd, and while it leads it decides and dispatches; workers pull from its
 * dispatch endpoint. SIGINT/SIGTERM resign at once, so another scheduler takes over without
 * waiting for the lease to expire. Health and metrics are served on DAGRUN_HEALTH_PORT.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { startHealthServer } from '../../observability/health-server.js';
import { startTracing } from '../../observability/tracing.js';
import { readLiveRuns } from '../../projections/live-runs.js';
import { DispatchServer } from '../../scheduler/remote/dispatch-server.js';
import { SchedulerNode } from '../../scheduler/scheduler-node.js';
import { openCoordination, pingDatabase, requireClusterSettings, shutdownSignal } from '../cluster.js';
import { type GlobalOptions, runAction } from '../context.js';
import { openServiceDatabase } from '../runtime.js';

interface SchedulerFlags {
  readonly dispatchHost?: string;
  readonly dispatchPort?: string;
  readonly advertise?: string;
  readonly healthHost?: string;
  readonly healthPort?: string;
}

export function registerSchedulerCommand(program: Command): void {
  program
    .command('scheduler')
    .description('run a scheduler of a distributed deployment (etcd elects one leader)')
    .option('--dispatch-host <host>', 'where workers reach this scheduler (env DAGRUN_DISPATCH_HOST)')
    .option('--dispatch-port <port>', 'dispatch port; 0: any free port (env DAGRUN_DISPATCH_PORT)')
    .option('--advertise <url>', 'dispatch URL told to workers (env DAGRUN_DISPATCH_ADVERTISE)')
    .option('--health-host <host>', 'health and metrics host (env DAGRUN_HEALTH_HOST)')
    .option('--health-port <port>', 'health and metrics port; 0: any (env DAGRUN_HEALTH_PORT)')
    .action(async (flags: SchedulerFlags, command: Command) => {
      await runAction(
        command.optsWithGlobals<GlobalOptions>(),
        async (ctx) => {
          const { config, log } = ctx;
          const settings = requireClusterSettings(config);
          const shutdown = shutdownSignal();
          const tracing = await startTracing(config.tracing, 'scheduler', { log });
          const id = `scheduler-${hostname()}-${process.pid}`;
          const { pool, store, close } = await openServiceDatabase(
            config,
            'dagrun-scheduler',
            log,
            shutdown.signal,
          );
          const coordination = openCoordination(config, settings, log);
          const { dispatch } = config.cluster;
          const server = new DispatchServer({
            host: dispatch.host,
            port: dispatch.port,
            token: settings.token,
            log,
          });
          const bound = await server.listen();
          const address = dispatch.advertise ?? bound.url;
          const registry = new Registry();
          collectDefaultMetrics({ register: registry });
          const node = new SchedulerNode({
            id,
            store,
            coordination,
            server,
            address,
            log,
            maxBacklog: config.maxBacklog,
            liveRuns: () => readLiveRuns(pool),
          });
          registerSchedulerMetrics(registry, node);
          node.start();
          const health = await startHealthServer({
            host: config.health.host,
            port: config.health.port ?? 0,
            registry,
            log,
            checks: {
              postgres: () => pingDatabase(pool),
              etcd: async () => {
                try {
                  await coordination.ping();
                  return { ok: true };
                } catch (error) {
                  return { ok: false, detail: String(error) };
                }
              },
              scheduler: async () => ({
                ok: node.role === 'leader' || node.role === 'candidate',
                detail: { role: node.role, ...node.leading },
              }),
            },
          });
          log.info('scheduler started', { id, dispatch: bound.url, address, health: health.url });
          ctx.out(
            `dagrun scheduler: dispatch on ${bound.url} (advertised ${address}); health on ${health.url}`,
          );
          const signal = await shutdown.received;
          log.info('shutting down', { signal });
          await node.stop();
          await server.close();
          await coordination.close();
          await health.close();
          await close();
          await tracing.shutdown();
          log.info('scheduler stopped');
          return 0;
        },
        {
          DAGRUN_DISPATCH_HOST: flags.dispatchHost,
          DAGRUN_DISPATCH_PORT: flags.dispatchPort,
          DAGRUN_DISPATCH_ADVERTISE: flags.advertise,
          DAGRUN_HEALTH_HOST: flags.healthHost,
          DAGRUN_HEALTH_PORT: flags.healthPort,
        },
      );
    });
}

function registerSchedulerMetrics(registry: Registry, node: SchedulerNode): void {
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const value = read();
        if (value === undefined) this.reset();
        else this.set(value);
      },
    });
  gauge('dagrun_scheduler_leader', '1 while this scheduler leads, else 0', () => (node.leading ? 1 : 0));
  gauge('dagrun_scheduler_term', 'The fencing term this scheduler leads under', () => node.leading?.term);
  gauge(
    'dagrun_dispatcher_backlog',
    'Attempts queued and not yet claimed by a worker',
    () => node.leading?.backlog,
  );
  gauge(
    'dagrun_scheduler_active_runs',
    'Runs the scheduler leader is following',
    () => node.leading?.activeRuns,
  );
  gauge('dagrun_workers', 'Live workers the leader dispatches to', () => node.leading?.workers);
}
