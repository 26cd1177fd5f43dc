/**
 * The projector's Prometheus metrics, on a registry the caller owns. The lag gauge is computed
 * when scraped (a stuck projector's lag keeps growing between batches), and one set of metrics
 * per registry serves every projection on it, told apart by the `projection` label.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

interface RegistryMetrics {
  readonly lag: Gauge<'projection'>;
  readonly applied: Counter<'projection'>;
  readonly sources: Map<string, () => number>;
}

const byRegistry = new WeakMap<Registry, RegistryMetrics>();

/** What one projector reports through its registry. */
export interface ProjectorMetrics {
  /** Counts events applied (committed). */
  applied(count: number): void;
  /** Stops reporting this projection. */
  unregister(): void;
}

/**
 * Registers `projection` on `registry`: `dagrun_projector_lag_seconds` reads `lagMs()` at
 * scrape time; `dagrun_projector_events_applied_total` counts committed events.
 */
export function registerProjectorMetrics(
  registry: Registry,
  projection: string,
  lagMs: () => number,
): ProjectorMetrics {
  const metrics = metricsOf(registry);
  if (metrics.sources.has(projection)) {
    throw new Error(`a projector named ${projection} already reports to this registry`);
  }
  metrics.sources.set(projection, lagMs);
  metrics.applied.inc({ projection }, 0); // present from the start, not from the first batch
  return {
    applied: (count) => metrics.applied.inc({ projection }, count),
    unregister: () => {
      metrics.sources.delete(projection);
      metrics.lag.remove({ projection });
    },
  };
}

function metricsOf(registry: Registry): RegistryMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const sources = new Map<string, () => number>();
  const metrics: RegistryMetrics = {
    sources,
    lag: new Gauge({
      name: 'dagrun_projector_lag_seconds',
      help: 'Age of the oldest event the projector has received but not yet committed; 0 when caught up',
      labelNames: ['projection'],
      registers: [registry],
      collect() {
        for (const [projection, lagMs] of sources) this.set({ projection }, lagMs() / 1000);
      },
    }),
    applied: new Counter({
      name: 'dagrun_projector_events_applied_total',
      help: 'Events the projector has applied to the read models (committed)',
      labelNames: ['projection'],
      registers: [registry],
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
