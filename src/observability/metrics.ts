/**
 * Prometheus metrics of the API and of the engine it fronts, on a registry the caller owns (the
 * projector registers its own lag on the same registry). Engine gauges are read at scrape time,
 * so they cost nothing between scrapes.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  /** Records one finished request; `route` is the route pattern, never the raw path. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function registerHttpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'dagrun_api_requests_total',
    help: 'API requests by route pattern and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'dagrun_api_request_duration_seconds',
    help: 'API request latency by route pattern and status',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    observe(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
  };
}

/** What the engine gauges read; each source is optional (the API-only process has no engine). */
export interface EngineMetricSources {
  readonly backlog?: () => number;
  readonly activeRuns?: () => number;
  readonly runningAttempts?: () => number;
  readonly workers?: () => number;
  /** Open DLQ items, from the read model; failures leave the gauge unset for that scrape. */
  readonly openDeadLetters?: () => Promise<number>;
}

export function registerEngineMetrics(registry: Registry, sources: EngineMetricSources): void {
  const gauge = (name: string, help: string, read: (() => number) | undefined) => {
    if (!read) return;
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('dagrun_dispatcher_backlog', 'Attempts queued and not yet claimed by a worker', sources.backlog);
  gauge('dagrun_scheduler_active_runs', 'Runs the scheduler leader is following', sources.activeRuns);
  gauge('dagrun_workers_running_attempts', 'Attempts running on local workers', sources.runningAttempts);
  gauge('dagrun_workers', 'Local workers', sources.workers);
  const openDeadLetters = sources.openDeadLetters;
  if (openDeadLetters) {
    new Gauge({
      name: 'dagrun_dlq_open_items',
      help: 'Dead-letter items neither retried nor discarded (read model)',
      registers: [registry],
      async collect() {
        try {
          this.set(await openDeadLetters());
        } catch {
          this.reset(); // the database is down: no value rather than a stale one
        }
      },
    });
  }
}
