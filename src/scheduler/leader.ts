/**
 * The leader loop: catch up on the log, then follow it live; fold run and attempt events into
 * the state of each active run; decide; append each run's decisions as one batch with the
 * expected revision of the run stream it folded (invariant 3); hand queued attempts to the
 * dispatcher. Timers (retry backoff, deadlines) are data in the run states; one timer wakes the
 * loop at the earliest of them.
 *
 * A leader that sees a decision with a higher term than its own steps down. What it decides on,
 * the runs it follows as folded from the log, is in run-book.ts.
 *
 * In one process the engine also hands the leader each of its group commits as it commits
 * (`observe`): the leader folds the claims and outcomes in it then, and the live log
 * (log-follower.ts) leaves the whole commit out. That takes the NOTIFY and the read of $all off
 * the path from one task's end to the next one's start, and spares reading back every event.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, FencedError } from '../errors.js';
import { type RunEvent, streams } from '../events/schemas/index.js';
import type { EventStore, GlobalPosition, RecordedEvent } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { type AbandonOrder, decideUntilStable } from './core/decide.js';
import { evolve } from './core/evolve.js';
import { isRunFinished, type RunState } from './core/state.js';
import { DecisionSpans, traceOf } from './decision-spans.js';
import type { Dispatcher } from './dispatcher.js';
import { LogFollower } from './log-follower.js';
import { type ActiveRun, type LiveRunsSource, RunBook, runIdOf } from './run-book.js';
import type { WorkItem } from './work-source.js';

export interface LeaderOptions {
  readonly store: EventStore;
  readonly dispatcher: Dispatcher;
  /** The election's term; stamped on every decision. */
  readonly term: number;
  readonly log: Logger;
  /** Extra time past a task's timeout before a silent attempt is abandoned. */
  readonly abandonGraceMs?: number;
  readonly now?: () => number;
  /** Called once when a higher term shows up in the log. */
  readonly onDeposed?: (term: number) => void;
  /**
   * Where to start instead of the whole log: a position and the runs active there (the read
   * models' checkpoint). Absent, or answering undefined: fold the log from its start.
   */
  readonly liveRuns?: LiveRunsSource;
  /** Told of what the leader decided (for metrics). */
  readonly observer?: DecisionObserver;
}

/** What a leader reports as it decides; src/observability/scheduler-metrics.ts counts it. */
export interface DecisionObserver {
  /** A decide pass: how long deciding took (CPU, no I/O). */
  passed(seconds: number): void;
  /** A batch of decisions appended, and how long its append took. */
  appended(events: readonly RunEvent[], seconds: number): void;
  /** An attempt the leader closed with AttemptAbandoned, by failure kind. */
  abandoned(kind: string): void;
  /** A decision append that conflicted (the run is rebuilt and decided again). */
  conflicted(): void;
}

/** The fence key of scheduler terms (EventStore.nextTerm): every decision is fenced with it. */
export const SCHEDULER_FENCE = 'scheduler';
/** The gap after a decide pass, in multiples of its cost: passes take at most 1/10 of the time. */
const PASS_SPACING = 9;

export class SchedulerLeader {
  /** The runs this leader follows (run-book.ts). */
  private readonly book: RunBook;
  private readonly runs: Map<string, ActiveRun>;
  private readonly pending = new Set<string>();
  private readonly wakeAt = new Map<string, number>();
  private readonly starved = new Set<string>();
  /** The live log (log-follower.ts); it also knows what the leader has folded in process. */
  private readonly follower: LogFollower;
  private live = false;
  private passScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;

  private readonly fence: { readonly key: string; readonly term: number };

  constructor(private readonly options: LeaderOptions) {
    this.book = new RunBook({
      store: options.store,
      log: options.log,
      settled: (ref) => options.dispatcher.settled(ref),
      folded: (run) => this.checkTerm(run),
    });
    this.runs = this.book.runs;
    this.follower = new LogFollower({
      store: options.store,
      log: options.log,
      onEvent: (event) => this.onEvent(event),
    });
    this.fence = { key: SCHEDULER_FENCE, term: options.term };
    this.now = options.now ?? Date.now;
  }

  /** Rebuilds the active runs from the log, re-dispatches their queued attempts, then follows live. */
  async start(): Promise<void> {
    const position = await this.book.load(this.options.liveRuns);
    for (const [runId, run] of this.runs) {
      for (const task of run.state.tasks.values()) {
        if (task.status === 'queued')
          this.options.dispatcher.enqueue(
            this.workItem(run, task.plan.id, task.attempt, run.queuedTraces?.get(task.plan.id)),
          );
      }
      this.markDirty(runId);
    }
    this.live = true;
    this.follower.start(position);
    this.options.log.info('scheduler leader started', {
      term: this.options.term,
      activeRuns: this.runs.size,
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.follower.stop();
  }

  /**
   * Tell the leader that the dispatcher has room again (wired to Dispatcher.onRoom). Starved runs
   * are woken once the backlog has drained to half, not on every hand-out: one decision then
   * queues hundreds of tasks in one append instead of a handful each time a worker polls.
   */
  onRoom(): void {
    if (this.starved.size === 0) return;
    const { dispatcher } = this.options;
    if (dispatcher.backlog > 0 && dispatcher.budget() < dispatcher.backlog) return;
    for (const runId of this.starved) this.markDirty(runId);
    this.starved.clear();
  }

  /**
   * One commit of the appender in this process (its group commit: claims and outcomes of local
   * workers, and this leader's own decisions), with its single-event appends. The attempt events
   * are folded now; the decisions were folded when they were taken. The subscription then leaves
   * the whole commit out: nothing else writes through that appender, so it holds no news. Events
   * the subscription already delivered are not folded twice; attempt events of runs not in
   * memory are of no interest (the subscription would drop them too).
   */
  observe(events: readonly RecordedEvent[], commit: GlobalPosition): void {
    if (!this.live || this.stopped) return;
    this.follower.ownCommit(commit);
    for (const event of events) {
      if (!event.streamName.startsWith('attempt-')) continue;
      if (this.follower.delivered(event.position)) continue;
      const runId = runIdOf(event);
      const run = runId === undefined ? undefined : this.runs.get(runId);
      if (!run || runId === undefined) continue;
      this.book.foldAttempt(runId, run, event);
      this.markDirty(runId);
    }
  }

  /**
   * The set of live workers changed (the registry dropped one): runs with running attempts are
   * decided again, and attempts of a worker that is gone are abandoned (worker_lost) and retried.
   */
  workersChanged(): void {
    for (const [runId, run] of this.runs) if (run.state.running.size > 0) this.markDirty(runId);
  }

  /** The term this leader decides under. */
  get term(): number {
    return this.options.term;
  }

  /** Active runs, for health and metrics. */
  get activeRuns(): number {
    return this.runs.size;
  }

  /** An event of the live log (not one of the leader's own commits). */
  private async onEvent(event: RecordedEvent): Promise<void> {
    const runId = runIdOf(event);
    const known = runId === undefined ? undefined : this.runs.get(runId);
    // The leader's own decisions come back through the subscription: already folded, no news.
    const stale =
      known !== undefined && event.streamName.startsWith('run-') && event.revision <= known.state.revision;
    await this.book.fold(event);
    if (!stale && runId && this.runs.has(runId)) this.markDirty(runId);
  }

  private checkTerm(run: ActiveRun): void {
    if (run.state.term > this.options.term) this.stepDown(run.state.term);
  }

  /** A fenced append was refused: a newer leader has taken a term. Decide nothing more. */
  private deposed(error: FencedError): void {
    this.options.log.warn('scheduler deposed: a newer term was taken', {
      term: this.options.term,
      current: error.current,
    });
    this.stepDown(error.current ?? this.options.term + 1);
  }

  private stepDown(term: number): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.options.onDeposed?.(term);
  }

  private markDirty(runId: string): void {
    this.pending.add(runId);
    if (this.passScheduled || this.stopped) return;
    this.passScheduled = true;
    // After the events already delivered are folded: one decide per run per burst.
    setImmediate(() => {
      this.passScheduled = false;
      const runIds = [...this.pending];
      this.pending.clear();
      for (const id of runIds) void this.decideRun(id);
    });
  }

  /** Decides one run; one decision batch in flight per run at a time. */
  private async decideRun(runId: string): Promise<void> {
    const run = this.runs.get(runId);
    if (!run || this.stopped) return;
    if (run.deciding) {
      run.dirty = true;
      return;
    }
    run.deciding = true;
    try {
      do {
        // A pass over a big run costs real CPU (decide looks at every pending task): space
        // passes by a few times their cost, folding whatever arrives meanwhile into the next.
        const wait = run.notBefore - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        run.dirty = false;
        await this.decideOnce(runId, run);
      } while (run.dirty && !this.stopped);
    } catch (error) {
      this.options.log.error('decision failed', { runId, error: String(error) });
      setTimeout(() => this.markDirty(runId), 1000).unref();
    } finally {
      run.deciding = false;
    }
  }

  private async decideOnce(runId: string, run: ActiveRun): Promise<void> {
    const { dispatcher, store, term } = this.options;
    const now = this.now();
    const expected = run.state.revision;
    const budget = dispatcher.budget();
    const started = performance.now();
    const decision = decideUntilStable(run.state, {
      now,
      term,
      budget,
      abandonGraceMs: this.options.abandonGraceMs ?? 30_000,
    });
    const cost = performance.now() - started;
    run.notBefore = started + cost * (1 + PASS_SPACING);
    this.options.observer?.passed(cost / 1000);
    const abandon = [...decision.abandon, ...this.lostWorkerOrders(run.state)];
    if (decision.events.length > 0) {
      const metadata = {
        correlationId: run.correlationId,
        causationId: run.lastEventId,
        actor: `scheduler:${term}`,
        term,
      };
      const spans = DecisionSpans.begin(run, decision.events, term, now);
      const appending = performance.now();
      try {
        const appended = await store.append(
          streams.run(runId),
          decision.events.map((e, i) => ({
            id: randomUUID(),
            type: e.type,
            data: e.data,
            metadata: spans ? spans.metadata(metadata, i) : metadata,
          })),
          expected < 0 ? 'no_stream' : expected,
          { fence: this.fence },
        );
        run.appendedAt = appended.position;
        this.options.observer?.appended(decision.events, (performance.now() - appending) / 1000);
      } catch (error) {
        spans?.end(error);
        if (error instanceof FencedError) return this.deposed(error);
        if (!(error instanceof ConcurrencyError)) throw error;
        this.options.observer?.conflicted();
        // Someone else wrote to the run (a command, or another leader): rebuild, decide again.
        await this.book.reload(runId, run);
        run.dirty = true;
        return;
      }
      this.dispatchQueued(run, decision.events, spans);
      spans?.end();
    }
    await Promise.all(abandon.map((order) => this.abandon(runId, run, order)));
    const queuedAll = decision.events.filter((e) => e.type === 'TaskQueued').length;
    if (queuedAll >= budget && run.state.runnable.size + run.state.retryWaiting.size > 0)
      this.starved.add(runId);
    this.scheduleWake(runId, decision.wakeAt);
    if (isRunFinished(run.state.status) && run.state.strays.size === 0) {
      this.wakeAt.delete(runId);
      // Its final events may still be on their way through the subscription (claims and
      // outcomes are observed first), unless the live log has them behind it already.
      this.book.forget(runId, run.appendedAt !== undefined && this.follower.behind(run.appendedAt));
    }
  }

  private dispatchQueued(run: ActiveRun, events: readonly RunEvent[], spans?: DecisionSpans): void {
    for (const [i, event] of events.entries()) {
      if (event.type === 'TaskQueued') {
        const item = this.workItem(run, event.data.taskId, event.data.attempt, spans?.traceparent(i));
        this.options.dispatcher.enqueue(item);
      }
    }
  }

  private workItem(run: ActiveRun, taskId: string, attempt: number, traceparent?: string): WorkItem {
    const task = run.version.tasks.get(taskId);
    if (!task) throw new Error(`task ${taskId} is not in DAG ${run.state.dagId}`);
    const upstream: Record<string, number> = {};
    for (const dep of task.dependencies) {
      const done = run.state.tasks.get(dep)?.succeededAttempt;
      if (done !== undefined) upstream[dep] = done;
    }
    return {
      runId: run.state.runId,
      taskId,
      attempt,
      dagId: run.state.dagId ?? '',
      dagVersion: run.state.dagVersion ?? 0,
      task,
      labels: task.labels,
      params: run.state.params,
      upstream,
      term: this.options.term,
      ...(traceparent ? { traceparent } : {}),
    };
  }

  /** Running attempts whose worker is gone: abandoned as worker_lost, then retried by policy. */
  private lostWorkerOrders(state: RunState): AbandonOrder[] {
    const live = this.options.dispatcher.liveWorkers();
    const orders: AbandonOrder[] = [];
    for (const id of state.running) {
      const t = state.tasks.get(id);
      if (!t || t.undecidedFailure || !t.workerId || live.has(t.workerId)) continue;
      orders.push({
        taskId: id,
        attempt: t.attempt,
        failure: { kind: 'worker_lost', message: `worker ${t.workerId} is gone` },
      });
    }
    return orders;
  }

  /** Closes an attempt with AttemptAbandoned, fenced by expected revision 0 (invariant 2). */
  private async abandon(runId: string, run: ActiveRun, order: AbandonOrder): Promise<void> {
    const workerId = run.state.tasks.get(order.taskId)?.workerId;
    const data = {
      runId,
      taskId: order.taskId,
      attempt: order.attempt,
      failure: order.failure,
      term: this.options.term,
      abandonedAt: new Date(this.now()).toISOString(),
    };
    try {
      await this.options.store.append(
        streams.attempt(runId, order.taskId, order.attempt),
        [
          {
            id: randomUUID(),
            type: 'AttemptAbandoned',
            data,
            metadata: {
              correlationId: run.correlationId,
              causationId: run.lastEventId,
              actor: `scheduler:${this.options.term}`,
              // Under this leader's run span (or the request's, before it has decided anything).
              ...(traceOf(run) ? { traceparent: traceOf(run) } : {}),
            },
          },
        ],
        0,
        { fence: this.fence },
      );
    } catch (error) {
      if (error instanceof FencedError) return this.deposed(error);
      // The worker reported first: its outcome stands and reaches us through the subscription.
      if (error instanceof ConcurrencyError) return;
      throw error;
    }
    this.options.observer?.abandoned(order.failure.kind);
    if (workerId)
      this.options.dispatcher.cancel(workerId, { runId, taskId: order.taskId, attempt: order.attempt });
    evolve(run.state, { type: 'AttemptAbandoned', data });
    run.dirty = true;
  }

  private scheduleWake(runId: string, at: number | undefined): void {
    if (at === undefined) this.wakeAt.delete(runId);
    else this.wakeAt.set(runId, at);
    this.armTimer();
  }

  /**
   * One timer, at the earliest wake-up. It re-arms itself for whatever is not due when it fires:
   * a timer can fire a little before the wall clock (`now`) reaches its time — timers run on a
   * monotonic clock in whole milliseconds — and a run whose wake-up was skipped then would wait
   * for some other event to be decided again (a retry's run stalled after TaskRetryScheduled).
   */
  private armTimer(): void {
    clearTimeout(this.timer);
    if (this.wakeAt.size === 0 || this.stopped) return;
    const next = Math.min(...this.wakeAt.values());
    this.timer = setTimeout(
      () => {
        const now = this.now();
        for (const [id, when] of this.wakeAt) {
          if (when > now) continue;
          // Decided again now; the decision sets the run's next wake-up, if any.
          this.wakeAt.delete(id);
          this.markDirty(id);
        }
        this.armTimer();
      },
      Math.max(0, next - this.now()) + 1,
    );
    this.timer.unref();
  }
}
