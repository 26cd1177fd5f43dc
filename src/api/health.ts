/**
 * Health per component. Liveness is the process answering; readiness is what the API needs to
 * serve correct answers: Postgres, the event store, and a running projector within the lag limit.
 * The scheduler and workers are reported (they live in this process only in standalone; `dagrun
 * api` reports what the read models show of them) but do not make the API unready: it can accept
 * runs while they restart.
 */
import type { ApiDeps } from './context.js';
import type { ComponentHealth, HealthReport } from './models.js';

const CHECK_TIMEOUT_MS = 2_000;

export async function checkHealth(deps: ApiDeps): Promise<HealthReport> {
  const [postgres, eventStore] = await Promise.all([
    timed(async () => {
      await deps.pool.query('SELECT 1');
      return {};
    }),
    timed(async () => {
      const [last] = await deps.store.readAll({ maxCount: 1 });
      return { reachable: true, hasEvents: last !== undefined };
    }),
  ]);
  const status = deps.projector.status;
  const projector: ComponentHealth = {
    status:
      status.state !== 'running'
        ? status.state === 'standby'
          ? 'degraded'
          : 'down'
        : status.lagMs > deps.config.maxProjectorLagMs
          ? 'degraded'
          : 'up',
    detail: {
      state: status.state,
      lagMs: status.lagMs,
      position: status.position,
      eventsApplied: status.eventsApplied,
    },
  };
  const engine = deps.engine;
  const estimates = deps.estimates;
  const scheduler: ComponentHealth = engine
    ? {
        status: 'up',
        detail: { leader: 'local', activeRuns: engine.leader.activeRuns, backlog: engine.dispatcher.backlog },
      }
    : estimates
      ? {
          // Another process schedules; what the read models show of its backlog is reported.
          status: 'absent',
          detail: { backlogEstimate: estimates.backlog ?? null, maxBacklog: estimates.maxBacklog },
        }
      : { status: 'absent', detail: {} };
  const workers: ComponentHealth = engine
    ? {
        status: engine.workers.length > 0 ? 'up' : 'degraded',
        detail: {
          count: engine.workers.length,
          running: engine.workers.reduce((sum, w) => sum + w.running, 0),
        },
      }
    : estimates?.workers
      ? {
          status: estimates.workers.active > 0 ? 'up' : 'degraded',
          detail: { ...estimates.workers, source: 'read model' },
        }
      : { status: 'absent', detail: {} };
  const components = { postgres, eventStore, scheduler, projector, workers };
  const essential = [postgres, eventStore, projector];
  const overall = essential.some((c) => c.status === 'down')
    ? 'down'
    : Object.values(components).some((c) => c.status === 'down' || c.status === 'degraded')
      ? 'degraded'
      : 'ok';
  return { status: overall, components };
}

async function timed(check: () => Promise<Record<string, unknown>>): Promise<ComponentHealth> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', detail: { ...detail, latencyMs: Date.now() - started } };
  } catch (error) {
    return { status: 'down', detail: { error: error instanceof Error ? error.message : String(error) } };
  } finally {
    clearTimeout(timer);
  }
}
