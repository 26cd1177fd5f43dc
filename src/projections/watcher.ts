/**
 * A projection followed from outside: what `dagrun api` knows of the projector that runs in
 * another process (`dagrun projector`). It polls the projection's progress (progress.ts) — every
 * `pollMs`, and every `fastPollMs` while a caller waits for a position (read your writes) — and
 * offers the same view as a `Projector`: `lagMs`, `status`, `waitForPosition`.
 *
 * The state is `running` while some projector holds the projection's lock, `stopped` while none
 * does; the lag keeps growing between polls while the projection is behind, as a projector's own
 * does.
 */
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { START_POSITION } from '../events/position.js';
import { Doorbell } from '../events/postgres/doorbell.js';
import type { EventStore, GlobalPosition } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { READ_MODELS_PROJECTION } from './checkpoint.js';
import { PositionWaiters } from './position-waiters.js';
import { lagOf, type ProjectionProgress, readProjectionProgress } from './progress.js';
import type { ProjectorStatus } from './projector.js';

export interface ProjectionWatcherOptions {
  readonly pool: pg.Pool;
  readonly store: EventStore;
  /** Checkpoint name (default `read_models`). */
  readonly name?: string;
  readonly log?: Logger;
  /** Poll interval while nobody waits, ms (default 500). */
  readonly pollMs?: number;
  /** Poll interval while a caller waits for a position, ms (default 20). */
  readonly fastPollMs?: number;
  /** Reports `dagrun_read_model_lag_seconds` and `dagrun_read_model_projector_active` here. */
  readonly registry?: Registry;
}

export class ProjectionWatcher {
  private readonly name: string;
  private readonly waiters = new PositionWaiters();
  private readonly wakeup = new Doorbell();
  private progress: ProjectionProgress | undefined;
  private lastError: string | undefined;
  private waiting = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Names of the gauges this watcher registered (removed on stop). */
  private readonly gauges: string[] = [];

  constructor(private readonly options: ProjectionWatcherOptions) {
    this.name = options.name ?? READ_MODELS_PROJECTION;
    const registry = options.registry;
    if (registry) {
      const watcher = this;
      new Gauge({
        name: 'dagrun_read_model_lag_seconds',
        help: 'How far the read models are behind the log, as this process sees them (projector in another process)',
        registers: [registry],
        collect() {
          this.set(watcher.lagMs / 1000);
        },
      });
      new Gauge({
        name: 'dagrun_read_model_projector_active',
        help: '1 while a projector holds the read models lock, else 0 (as last polled)',
        registers: [registry],
        collect() {
          this.set(watcher.progress?.active ? 1 : 0);
        },
      });
      this.gauges.push('dagrun_read_model_lag_seconds', 'dagrun_read_model_projector_active');
    }
  }

  /** Reads the progress once, then keeps polling in the background. */
  async start(): Promise<this> {
    if (this.running) return this;
    await this.poll();
    this.running = this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.close();
    await this.running;
    for (const name of this.gauges) this.options.registry?.removeSingleMetric(name);
    this.waiters.rejectAll(new Error(`projection ${this.name}: no longer watched`));
  }

  get lagMs(): number {
    return this.progress ? lagOf(this.progress) : 0;
  }

  get status(): ProjectorStatus {
    const p = this.progress;
    return {
      state: p?.active ? 'running' : 'stopped',
      position: p?.position ?? START_POSITION,
      eventsApplied: p?.eventsApplied ?? 0,
      lagMs: this.lagMs,
      batches: 0,
      lastError: this.lastError,
    };
  }

  /** Resolves once the checkpoint is at or past `position`; rejects after `timeoutMs`. */
  async waitForPosition(position: GlobalPosition, timeoutMs = 30_000): Promise<void> {
    if (this.progress && this.progress.position >= position) return;
    this.waiting++;
    this.wakeup.ring(); // poll fast from now on
    try {
      await this.waiters.wait(position, timeoutMs, () => `projection ${this.name}`);
    } finally {
      this.waiting--;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      await this.wakeup.wait(
        this.waiting > 0 ? (this.options.fastPollMs ?? 20) : (this.options.pollMs ?? 500),
      );
      if (!this.stopping) await this.poll();
    }
  }

  private async poll(): Promise<void> {
    try {
      this.progress = await readProjectionProgress(this.options.pool, this.options.store, this.name);
      this.lastError = undefined;
      this.waiters.reached(this.progress.position);
    } catch (error) {
      if (this.lastError === undefined) {
        this.options.log?.warn('cannot read the projection progress', {
          projection: this.name,
          error: String(error),
        });
      }
      this.lastError = String(error);
    }
  }
}
