/**
 * `dagrun api` runs with no engine in its process, so what it sheds load and reports health by —
 * the scheduler's backlog, the workers — comes from the read models, refreshed in the background
 * every `refreshMs` (1 s by default) rather than per request. The backlog is the tasks queued and
 * not yet started in unfinished runs: the in-process dispatcher's backlog, as seen through the
 * projector (so it lags as the read models do).
 */
import { Gauge, type Registry } from 'prom-client';
import { Doorbell } from '../events/postgres/doorbell.js';
import type { Logger } from '../observability/logger.js';
import type { ReadModelQueries } from '../projections/index.js';
import type { EngineEstimates } from './context.js';

export interface ReadModelEstimatesOptions {
  readonly queries: ReadModelQueries;
  /** The scheduler's bound (DAGRUN_MAX_BACKLOG). */
  readonly maxBacklog: number;
  readonly refreshMs?: number;
  readonly log?: Logger;
  /** Reports `dagrun_api_backlog_estimate` here. */
  readonly registry?: Registry;
}

export class ReadModelEstimates implements EngineEstimates {
  backlog: number | undefined;
  workers: EngineEstimates['workers'];
  readonly maxBacklog: number;
  private readonly wakeup = new Doorbell();
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: ReadModelEstimatesOptions) {
    this.maxBacklog = options.maxBacklog;
    if (options.registry) {
      const estimates = this;
      new Gauge({
        name: 'dagrun_api_backlog_estimate',
        help: 'Tasks queued and not yet started, as the read models show them (what dagrun api sheds load by)',
        registers: [options.registry],
        collect() {
          if (estimates.backlog === undefined) this.reset();
          else this.set(estimates.backlog);
        },
      });
    }
  }

  /** Reads once, then refreshes in the background until `stop()`. */
  async start(): Promise<this> {
    if (this.running) return this;
    await this.refresh();
    this.running = (async () => {
      while ((await this.wakeup.wait(this.options.refreshMs ?? 1_000)) !== 'closed') await this.refresh();
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.wakeup.close();
    await this.running;
  }

  private async refresh(): Promise<void> {
    try {
      const [backlog, workers] = await Promise.all([
        this.options.queries.countQueuedTasks(),
        this.options.queries.countWorkers(),
      ]);
      this.backlog = backlog;
      this.workers = workers;
      this.failing = false;
    } catch (error) {
      // Unknown rather than stale: no shedding on a guess, and health shows the database down.
      this.backlog = undefined;
      this.workers = undefined;
      if (!this.failing) this.options.log?.warn('cannot read the backlog estimate', { error: String(error) });
      this.failing = true;
    }
  }
}
