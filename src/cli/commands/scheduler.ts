/**
 * `dagrun scheduler`: one scheduler of a distributed deployment (run two or more; one leads). It
 * campaigns through etcd, and while it leads it decides and dispatches; workers pull from its
 * dispatch endpoint. SIGINT/SIGTERM resign at once, so another scheduler takes over without
 * waiting for the lease to expire. Health and metrics are served on DAGRUN_HEALTH_PORT.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Gauge, type Registry } from 'prom-client';
import { registerDecisionMetrics } from '../../observability/scheduler-metrics.js';
import { readLiveRuns } from '../../projections/live-runs.js';
import { DispatchServer } from '../../scheduler/remote/dispatch-server.js';
import { SchedulerNode } from '../../scheduler/scheduler-node.js';
import { type ClusterProcess, type ClusterRole, pingCoordination, runClusterProcess } from '../cluster.js';
import { type CliContext, type GlobalOptions, runAction } from '../context.js';

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
        (ctx) => runClusterProcess(ctx, 'scheduler', (opened) => startScheduler(ctx, opened)),
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

/** Starts this process's scheduler: the dispatch server and the node that campaigns and leads. */
async function startScheduler(ctx: CliContext, opened: ClusterProcess): Promise<ClusterRole> {
  const { settings, pool, store, coordination, registry } = opened;
  const { config, log } = ctx;
  const id = `scheduler-${hostname()}-${process.pid}`;
  const { dispatch } = config.cluster;
  const server = new DispatchServer({
    host: dispatch.host,
    port: dispatch.port,
    token: settings.token,
    log,
  });
  const bound = await server.listen();
  const address = dispatch.advertise ?? bound.url;
  const decisions = registerDecisionMetrics(registry);
  const node = new SchedulerNode({
    id,
    store,
    coordination,
    server,
    address,
    log,
    maxBacklog: config.maxBacklog,
    liveRuns: () => readLiveRuns(pool),
    observer: decisions.observer,
    onClaimed: decisions.claimed,
  });
  registerLeadershipMetrics(registry, node);
  node.start();
  return {
    checks: {
      etcd: () => pingCoordination(coordination),
      scheduler: async () => ({
        ok: node.role === 'leader' || node.role === 'candidate',
        detail: { role: node.role, ...node.leading },
      }),
    },
    announce(healthUrl) {
      log.info('scheduler started', { id, dispatch: bound.url, address, health: healthUrl });
      ctx.out(`dagrun scheduler: dispatch on ${bound.url} (advertised ${address}); health on ${healthUrl}`);
    },
    async stop(signal) {
      log.info('shutting down', { signal });
      await node.stop();
      await server.close();
    },
  };
}

function registerLeadershipMetrics(registry: Registry, node: SchedulerNode): void {
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
