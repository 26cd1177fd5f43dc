/**
 * One scheduler process of a distributed deployment (`dagrun scheduler`; run two or more). It
 * campaigns in the coordination port's election; the winner takes the next fencing term from the
 * event store (so a deposed leader's appends are refused), proclaims its dispatch address and
 * term, follows the worker registry, and runs the leader loop and the dispatcher until it loses
 * the lease, is deposed, or is told to stop. Then it campaigns again (or resigns, on stop).
 *
 * The registry is the truth about which workers are alive: a worker whose lease expires is
 * recorded as WorkerLost, dropped from the dispatcher (what it had not claimed is handed out
 * again), and its running attempts are abandoned (fenced, expected revision 0) and retried.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import {
  type Coordination,
  type Leadership,
  SCHEDULER_ELECTION,
  type WorkerRecord,
} from '../coordination/types.js';
import { streams, type WorkerEvent } from '../events/schemas/index.js';
import type { EventStore } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { Dispatcher } from './dispatcher.js';
import { type DecisionObserver, type LeaderOptions, SCHEDULER_FENCE, SchedulerLeader } from './leader.js';
import type { DispatchServer } from './remote/dispatch-server.js';

export interface SchedulerNodeOptions {
  /** Unique per process (a candidate id). */
  readonly id: string;
  readonly store: EventStore;
  readonly coordination: Coordination;
  /** Serves workers while this node leads. */
  readonly server: DispatchServer;
  /** The dispatch URL proclaimed to workers. */
  readonly address: string;
  readonly log: Logger;
  readonly maxBacklog: number;
  readonly abandonGraceMs?: number;
  /** Where a new leader starts (see LeaderOptions.liveRuns); absent: from the whole log. */
  readonly liveRuns?: LeaderOptions['liveRuns'];
  /** Told when this node starts or stops leading (for metrics and logs). */
  readonly onLeadership?: (term: number | undefined) => void;
  /** Told what its leader decides and how long attempts wait for a claim (for metrics). */
  readonly observer?: DecisionObserver;
  readonly onClaimed?: (waitedMs: number) => void;
}

export type SchedulerRole = 'starting' | 'candidate' | 'leader' | 'stopped';

export class SchedulerNode {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private current: { leader: SchedulerLeader; dispatcher: Dispatcher; term: number } | undefined;
  private roleValue: SchedulerRole = 'starting';

  constructor(private readonly options: SchedulerNodeOptions) {}

  get role(): SchedulerRole {
    return this.roleValue;
  }

  /** While leading: the term, the dispatcher's backlog and the runs followed. */
  get leading(): { term: number; backlog: number; activeRuns: number; workers: number } | undefined {
    const c = this.current;
    if (!c) return undefined;
    return {
      term: c.term,
      backlog: c.dispatcher.backlog,
      activeRuns: c.leader.activeRuns,
      workers: c.dispatcher.liveWorkers().size,
    };
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Resigns at once if leading (another candidate takes over without waiting for a TTL). */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the scheduler is stopping'));
    await this.running;
    this.roleValue = 'stopped';
  }

  private async loop(): Promise<void> {
    const { coordination, log } = this.options;
    let pauseMs = 250;
    while (!this.stopping.signal.aborted) {
      this.roleValue = 'candidate';
      let leadership: Leadership;
      try {
        leadership = await coordination.campaign(SCHEDULER_ELECTION, this.options.id, {
          value: { address: this.options.address },
          signal: this.stopping.signal,
        });
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        log.warn('campaign failed; trying again', { error: String(error), pauseMs });
        await sleep(pauseMs, this.stopping.signal);
        pauseMs = Math.min(pauseMs * 2, 5000);
        continue;
      }
      pauseMs = 250;
      try {
        await this.lead(leadership);
      } catch (error) {
        log.error('leading failed', { error: String(error) });
      } finally {
        this.roleValue = 'candidate';
        this.options.onLeadership?.(undefined);
        await leadership.resign().catch(() => {});
      }
    }
  }

  private async lead(leadership: Leadership): Promise<void> {
    const { store, coordination, server, log } = this.options;
    const lost = leadership.lost.then(() => 'lost' as const);
    const stopped = new Promise<'stopped'>((resolve) => {
      if (this.stopping.signal.aborted) resolve('stopped');
      this.stopping.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    const term = await this.takeTerm(lost, stopped);
    if (term === undefined) return;
    await leadership.proclaim({ address: this.options.address, term });
    log.info('elected scheduler leader', { term, address: this.options.address });
    this.roleValue = 'leader';
    this.options.onLeadership?.(term);

    let leader: SchedulerLeader | undefined;
    const dispatcher = new Dispatcher({
      maxBacklog: this.options.maxBacklog,
      // A safety net only: answers a worker never read are given back at once (DispatchServer).
      claimTimeoutMs: 15_000,
      onRoom: () => leader?.onRoom(),
      ...(this.options.onClaimed ? { onClaimed: this.options.onClaimed } : {}),
    });
    const registry = new WorkerRegistryView(store, dispatcher, term, log, () => leader?.workersChanged());
    const subscription = registry.follow(coordination);
    let deposedBy: (term: number) => void = () => {};
    const deposed = new Promise<'deposed'>((resolve) => {
      deposedBy = () => resolve('deposed');
    });
    try {
      await registry.reconcile(coordination);
      leader = new SchedulerLeader({
        store,
        dispatcher,
        term,
        log,
        onDeposed: (t) => deposedBy(t),
        ...(this.options.observer ? { observer: this.options.observer } : {}),
        ...(this.options.liveRuns ? { liveRuns: this.options.liveRuns } : {}),
        ...(this.options.abandonGraceMs !== undefined ? { abandonGraceMs: this.options.abandonGraceMs } : {}),
      });
      const started = leader;
      server.lead({
        term,
        dispatcher,
        isRegistered: (id) => registry.has(id),
        activeRuns: () => started.activeRuns,
        onLeave: (id) => registry.leaving(id),
      });
      this.current = { leader, dispatcher, term };
      const outcome = await Promise.race([
        leader.start().then(() => 'started' as const),
        lost,
        deposed,
        stopped,
      ]);
      const why = outcome === 'started' ? await Promise.race([lost, deposed, stopped]) : outcome;
      log.info('scheduler leadership ended', { term, why });
    } finally {
      server.follow();
      this.current = undefined;
      subscription.unsubscribe();
      await leader?.stop();
      dispatcher.clear();
    }
  }

  /** The next fencing term; retried while the store is unreachable, for as long as we lead. */
  private async takeTerm(...ends: Promise<'lost' | 'stopped'>[]): Promise<number | undefined> {
    let ended = false;
    void Promise.race(ends).then(() => {
      ended = true;
    });
    for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
      try {
        return await this.options.store.nextTerm(SCHEDULER_FENCE);
      } catch (error) {
        this.options.log.warn('taking a term failed; retrying', { error: String(error), pauseMs });
        await Promise.race([sleep(pauseMs), ...ends]);
        if (ended) return undefined;
      }
    }
  }
}

/**
 * The leader's view of the worker registry: joins and drops workers in the dispatcher, and
 * records WorkerJoined / WorkerLeft / WorkerLost in the `workers` stream (fenced with the term).
 */
class WorkerRegistryView {
  private readonly live = new Map<string, WorkerRecord>();
  private readonly goingAway = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly dispatcher: Dispatcher,
    private readonly term: number,
    private readonly log: Logger,
    private readonly onDropped: () => void,
  ) {}

  has(workerId: string): boolean {
    return this.live.has(workerId);
  }

  /** The worker said it drains: when its registration goes, it left rather than got lost. */
  leaving(workerId: string): void {
    this.goingAway.add(workerId);
  }

  follow(coordination: Coordination): Subscription {
    return coordination.watchWorkers().subscribe({
      next: (change) => {
        if (change.type === 'put') this.put(change.worker);
        else this.drop(change.workerId);
      },
      error: (error) => this.log.error('watching the worker registry failed', { error: String(error) }),
    });
  }

  /** After `follow` subscribed: a fresh list, so nothing registered before the watch is missed. */
  async reconcile(coordination: Coordination): Promise<void> {
    const now = await coordination.workers();
    for (const worker of now) this.put(worker);
    const ids = new Set(now.map((w) => w.id));
    for (const id of [...this.live.keys()]) if (!ids.has(id)) this.drop(id);
  }

  private put(worker: WorkerRecord): void {
    const known = this.live.has(worker.id);
    this.live.set(worker.id, worker);
    if (known) return;
    void this.dispatcher.join({ id: worker.id, capacity: worker.capacity, labels: worker.labels });
    this.record({
      type: 'WorkerJoined',
      data: {
        workerId: worker.id,
        term: this.term,
        at: new Date().toISOString(),
        capacity: worker.capacity,
        labels: [...worker.labels],
        version: worker.version,
        ...(worker.host ? { host: worker.host } : {}),
      },
    });
  }

  private drop(workerId: string): void {
    if (!this.live.delete(workerId)) return;
    const left = this.goingAway.delete(workerId);
    void this.dispatcher.leave(workerId);
    const at = new Date().toISOString();
    this.record(
      left
        ? { type: 'WorkerLeft', data: { workerId, term: this.term, at } }
        : {
            type: 'WorkerLost',
            data: { workerId, term: this.term, at, reason: 'its registry lease expired' },
          },
    );
    if (!left) this.log.warn('worker lost', { workerId });
    this.onDropped();
  }

  private record(event: WorkerEvent): void {
    const metadata = {
      correlationId: `worker-${event.data.workerId}`,
      causationId: 'registry',
      actor: `scheduler:${this.term}`,
    };
    this.store
      .append(streams.workers(), [{ id: randomUUID(), ...event, metadata }], 'any', {
        fence: { key: SCHEDULER_FENCE, term: this.term },
      })
      .catch((error) =>
        this.log.warn('recording a worker change failed', { type: event.type, error: String(error) }),
      );
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
