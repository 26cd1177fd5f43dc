/**
 * The read-model projector (DESIGN.md invariant 5): a catch-up subscription to the event log
 * from the stored checkpoint, cut into batches, each applied with its new checkpoint in one
 * transaction (checkpoint.ts).
 *
 * One connection per session, held throughout: it carries the projection's advisory lock and
 * every batch transaction. A second projector of the same name waits as a standby until the lock
 * is free (its holder stopped, or died with its connection), then resumes from the checkpoint.
 *
 * Failures: a transient one (connection lost, server restarting, a checkpoint moved under us)
 * ends the session — the transaction rolls back, the connection is dropped — and a new session
 * starts from the committed checkpoint after a backoff (100 ms doubling to 5 s). Anything else is
 * a bug or bad data: the projector stops and `done` rejects with the error, so a supervisor sees
 * it instead of a projection that silently stops moving.
 *
 * A batch transaction has a transaction id, and the Postgres store shows every reader only
 * events of transactions below the oldest one still open (src/events/postgres/read.ts): while a
 * batch is open, everyone's subscriptions wait. `batchSize` bounds how long that can be (a few
 * ms per hundred events).
 */
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { START_POSITION } from '../events/position.js';
import { Doorbell } from '../events/postgres/doorbell.js';
import { isTransient } from '../events/postgres/subscription.js';
import type {
  EventStore,
  EventSubscription,
  GlobalPosition,
  RecordedEvent,
  SubscribeOptions,
} from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { EventBatcher } from './batcher.js';
import {
  applyBatch,
  type BeforeCommitHook,
  CheckpointMovedError,
  loadCheckpoint,
  READ_MODELS_PROJECTION,
  tryLockProjection,
  unlockProjection,
} from './checkpoint.js';
import { singleConnectionDb } from './database.js';
import { PROJECTED_STREAM_PREFIXES } from './handlers/index.js';
import { type ProjectorMetrics, registerProjectorMetrics } from './metrics.js';
import { PositionWaiters } from './position-waiters.js';

export interface ProjectorOptions {
  /** Where events come from. */
  readonly store: EventStore;
  /** The read-model database (the projector holds one of its connections while it runs). */
  readonly pool: pg.Pool;
  /** Checkpoint name (default `read_models`). */
  readonly name?: string;
  readonly log?: Logger;
  /** Most events per batch transaction (default 500). */
  readonly batchSize?: number;
  /** How long after a batch's first event to wait for more before committing (default 5 ms). */
  readonly batchWindowMs?: number;
  /** The subscription's fallback poll interval when live, in ms (Postgres store; default 500). */
  readonly pollIntervalMs?: number;
  /** How often a standby projector tries to take over, in ms (default 1000). */
  readonly standbyPollMs?: number;
  /** Report lag and throughput here; no metrics when absent. */
  readonly registry?: Registry;
  /** Test hook: runs inside each batch transaction just before COMMIT; a throw rolls it back. */
  readonly beforeCommit?: BeforeCommitHook;
  /** Told of every batch once it has committed (benchmarks measure lag with it); must not throw. */
  readonly onCommitted?: (events: readonly RecordedEvent[]) => void;
}

export type ProjectorState = 'idle' | 'standby' | 'running' | 'stopped' | 'failed';

export interface ProjectorStatus {
  readonly state: ProjectorState;
  /** The committed checkpoint, as far as this projector knows. */
  readonly position: GlobalPosition;
  /** Events applied since the projection was built (from the checkpoint row). */
  readonly eventsApplied: number;
  readonly lagMs: number;
  readonly batches: number;
  readonly lastError: string | undefined;
}

/** Keeps the read models up to date with the log; `start()` it, `stop()` it on shutdown. */
export class Projector {
  private readonly name: string;
  private readonly wakeup = new Doorbell();
  private readonly metrics: ProjectorMetrics | undefined;
  private state: ProjectorState = 'idle';
  private position: GlobalPosition = START_POSITION;
  private eventsApplied = 0;
  private batches = 0;
  private lastError: string | undefined;
  /** createdAt of the oldest event received but not yet committed; undefined when caught up. */
  private behindSince: Date | undefined;
  private subscription: EventSubscription | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly waiters = new PositionWaiters();

  constructor(private readonly options: ProjectorOptions) {
    this.name = options.name ?? READ_MODELS_PROJECTION;
    this.metrics = options.registry
      ? registerProjectorMetrics(options.registry, this.name, () => this.lagMs)
      : undefined;
  }

  /** Starts projecting in the background; `done` reports how it ends. Idempotent. */
  start(): this {
    if (this.running) return this;
    this.running = this.run();
    // `done` is the caller's to observe; the projector itself must not crash the process.
    this.running.catch(() => {});
    return this;
  }

  /** Settles when the projector has stopped: resolves after `stop()`, rejects on a fatal error. */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /**
   * Milliseconds the read models are behind: the age of the oldest event received but not yet
   * committed, so 0 once caught up. While catching up it is `now − createdAt` of the last
   * applied event; it keeps growing while a batch is stuck.
   */
  get lagMs(): number {
    return this.behindSince ? Math.max(0, Date.now() - this.behindSince.getTime()) : 0;
  }

  get status(): ProjectorStatus {
    return {
      state: this.state,
      position: this.position,
      eventsApplied: this.eventsApplied,
      lagMs: this.lagMs,
      batches: this.batches,
      lastError: this.lastError,
    };
  }

  /**
   * Resolves once the checkpoint is at or past `position` (e.g. an append's result: read your own
   * writes). Rejects after `timeoutMs`, or if the projector stops first.
   */
  waitForPosition(position: GlobalPosition, timeoutMs = 30_000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    if (this.state === 'stopped' || this.state === 'failed') {
      const cause = this.lastError ? `: ${this.lastError}` : '';
      return Promise.reject(new Error(`projector ${this.name} is ${this.state}${cause}`));
    }
    return this.waiters.wait(position, timeoutMs, () => `projector ${this.name}`);
  }

  /** Finishes the batch in flight (commit or rollback), releases the lock and connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeup.close();
    await this.subscription?.close();
    await this.running?.catch(() => {});
    this.metrics?.unregister();
    if (this.state !== 'failed') this.state = 'stopped';
    this.waiters.rejectAll(new Error(`projector ${this.name} stopped`));
  }

  private async run(): Promise<void> {
    let delay = 100;
    while (!this.stopping) {
      try {
        if ((await this.session()) === 'ended') {
          this.options.log?.warn('projector stops: its event store was closed', { projection: this.name });
          break;
        }
        delay = 100;
      } catch (error) {
        if (this.stopping) break;
        this.lastError = String(error);
        if (!(error instanceof CheckpointMovedError) && !isTransient(error)) {
          this.state = 'failed';
          this.options.log?.error('projector failed', { projection: this.name, error: String(error) });
          this.waiters.rejectAll(error as Error);
          throw error;
        }
        this.options.log?.warn('projector session ended; resuming from the checkpoint', {
          projection: this.name,
          error: String(error),
          retryInMs: delay,
        });
        await this.wakeup.wait(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
    this.state = 'stopped';
    this.waiters.rejectAll(new Error(`projector ${this.name} stopped`));
  }

  /**
   * One connection's worth of projecting: lock, checkpoint, subscribe, apply until stopped.
   * Returns 'ended' when the subscription ended by itself: the store was closed under us.
   */
  private async session(): Promise<'stopped' | 'ended'> {
    const client = await this.options.pool.connect();
    // A connection lost while idle between batches is reported as an 'error' event, which would
    // crash the process unheard; the next query on it fails and ends the session instead.
    const ignore = () => {};
    client.on('error', ignore);
    let failed = false;
    let locked = false;
    try {
      locked = await this.acquireLock(client);
      if (!locked) return 'stopped';
      const db = singleConnectionDb(client);
      const checkpoint = await loadCheckpoint(db, this.name);
      this.position = checkpoint.position;
      this.eventsApplied = checkpoint.eventsApplied;
      this.state = 'running';
      this.waiters.reached(this.position);
      this.options.log?.info('projector running', { projection: this.name, from: this.position });
      const subscribeOptions: SubscribeOptions & { pollIntervalMs?: number } = {
        from: this.position === START_POSITION ? 'start' : this.position,
        streamPrefixes: PROJECTED_STREAM_PREFIXES,
        batchSize: this.options.batchSize ?? 500,
        ...(this.options.pollIntervalMs ? { pollIntervalMs: this.options.pollIntervalMs } : {}),
      };
      const subscription = this.options.store.subscribe(subscribeOptions);
      this.subscription = subscription;
      if (this.stopping) await subscription.close(); // stop() came while we were connecting
      try {
        const batcher = new EventBatcher(
          subscription[Symbol.asyncIterator](),
          this.options.batchSize ?? 500,
          this.options.batchWindowMs ?? 5,
        );
        for (;;) {
          const batch = await batcher.next();
          const first = batch.events[0];
          if (first) {
            this.behindSince ??= first.createdAt;
            const { position } = await applyBatch(
              db,
              this.name,
              batch.events,
              this.position,
              this.options.beforeCommit,
            );
            this.committed(position, batch.events.length, batch.drained ? undefined : batch.events.at(-1));
            this.options.onCommitted?.(batch.events);
          }
          if (batch.ended) return this.stopping ? 'stopped' : 'ended';
        }
      } finally {
        this.subscription = undefined;
        await subscription.close();
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      if (locked && !failed) await unlockProjection(client, this.name).catch(() => {});
      // After a failure the connection's state is unknown: destroy it, which also frees the lock.
      // A destroyed connection keeps the listener: it may still report its end.
      if (!failed) client.off('error', ignore);
      client.release(failed);
    }
  }

  /** Takes the lock, waiting as a standby while another holder has it; false when stopped first. */
  private async acquireLock(client: pg.PoolClient): Promise<boolean> {
    while (!this.stopping) {
      if (await tryLockProjection(client, this.name)) return true;
      if (this.state !== 'standby') {
        this.state = 'standby';
        this.options.log?.info('projector on standby: another holds the lock', { projection: this.name });
      }
      await this.wakeup.wait(this.options.standbyPollMs ?? 1_000);
    }
    return false;
  }

  private committed(
    position: GlobalPosition,
    count: number,
    lastOfFullBatch: { createdAt: Date } | undefined,
  ) {
    this.position = position;
    this.eventsApplied += count;
    this.batches++;
    // A full batch means more is waiting: the next event is at least as old as the last applied.
    this.behindSince = lastOfFullBatch?.createdAt;
    this.metrics?.applied(count);
    this.waiters.reached(position);
  }
}
