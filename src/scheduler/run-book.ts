/**
 * The runs a scheduler leader follows, folded from the log: loaded at start (the runs active at
 * the read models' checkpoint, or the whole log), kept up to date event by event, reloaded when
 * an event concerns a run no longer in memory, forgotten when finished. Deciding is the leader's
 * (leader.ts); this is what it decides on.
 */

import type { EventStore, GlobalPosition, RecordedEvent } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import { initialRunState, isRunFinished, type RunState } from './core/state.js';
import { rememberTraces, type TracedRun } from './decision-spans.js';
import { RUN_AND_ATTEMPT_STREAMS } from './log-follower.js';
import { type DagVersion, DagVersions, foldRecorded, loadRun } from './run-loader.js';
import type { AttemptRef } from './work-source.js';

/** A run the leader follows; its traces (decision-spans.ts) ride along as a TracedRun. */
export interface ActiveRun extends TracedRun {
  state: RunState;
  readonly version: DagVersion;
  correlationId: string;
  lastEventId: string;
  deciding: boolean;
  dirty: boolean;
  /** performance.now() before which the next decide pass waits (leader.ts, PASS_SPACING). */
  notBefore: number;
  /** Where the last decisions this leader appended for the run sit in the log. */
  appendedAt?: GlobalPosition;
}

/** Where a leader starts: a position and the runs active there (the read models' checkpoint). */
export type LiveRunsSource = () => Promise<{ position: GlobalPosition; runIds: string[] } | undefined>;

export interface RunBookOptions {
  readonly store: EventStore;
  readonly log: Logger;
  /** An attempt event arrived: the dispatcher stops tracking its hand-out. */
  readonly settled: (ref: AttemptRef) => void;
  /** A run was folded (its term may be newer than the leader's). */
  readonly folded: (run: ActiveRun) => void;
}

export class RunBook {
  readonly runs = new Map<string, ActiveRun>();
  /** Runs finished and forgotten, with the run-stream revision they finished at (see fold). */
  private readonly finished = new Map<string, number>();
  private readonly dags: DagVersions;

  constructor(private readonly options: RunBookOptions) {
    this.dags = new DagVersions(options.store);
  }

  /**
   * Loads the runs to follow and says from where to follow the log: only those active at the
   * read models' checkpoint, as they were there, when `liveRuns` gives one; otherwise the whole
   * log, folded.
   */
  async load(liveRuns: LiveRunsSource | undefined): Promise<GlobalPosition | undefined> {
    return (await this.loadLiveRuns(liveRuns)) ?? (await this.catchUp());
  }

  /** An event of the log, folded into its run; creates or reloads the run as needed. */
  async fold(event: RecordedEvent): Promise<void> {
    const runId = runIdOf(event);
    if (!runId) return;
    if (!event.streamName.startsWith('run-')) {
      // Claimed or decided: the dispatcher stops tracking the hand-out.
      const { taskId, attempt } = event.data as { taskId: string; attempt: number };
      this.options.settled({ runId, taskId, attempt });
    }
    let run = this.runs.get(runId);
    if (!run) {
      if (event.type === 'RunRequested') {
        const { dagId, dagVersion } = event.data as { dagId: string; dagVersion: number };
        const version = await this.dags.get(dagId, dagVersion);
        run = activeRun(initialRunState(runId, version.plan), version, [event], event.id);
        this.runs.set(runId, run);
      } else if (event.streamName.startsWith('run-')) {
        // The subscription catching up on a run this leader already finished: nothing new.
        const finishedAt = this.finished.get(runId);
        if (finishedAt !== undefined && event.revision <= finishedAt) {
          if (event.revision === finishedAt) this.finished.delete(runId);
          return;
        }
        // An event for a run no longer in memory (e.g. a DLQ retry of a failed run): reload it.
        const loaded = await loadRun(this.options.store, this.dags, runId);
        if (!loaded || isRunFinished(loaded.state.status)) return;
        this.runs.set(runId, activeRun(loaded.state, loaded.version, loaded.runEvents, event.id));
        return;
      } else {
        return;
      }
    }
    foldRecorded(run.state, event);
    run.lastEventId = event.id;
    rememberTraces(run, event);
    this.options.folded(run);
  }

  /** `fold` for an attempt event of a run in memory (synchronous: handed over in process). */
  foldAttempt(runId: string, run: ActiveRun, event: RecordedEvent): void {
    const { taskId, attempt } = event.data as { taskId: string; attempt: number };
    this.options.settled({ runId, taskId, attempt });
    foldRecorded(run.state, event);
    run.lastEventId = event.id;
    this.options.folded(run);
  }

  /** Rebuilds a run's state from the log (after a decision append conflicted). */
  async reload(runId: string, run: ActiveRun): Promise<void> {
    const loaded = await loadRun(this.options.store, this.dags, runId);
    if (loaded) run.state = loaded.state;
  }

  /**
   * Forgets a finished run. Unless its final events will not come through the subscription
   * (`delivered`), the revision it finished at is kept, so they do not trigger a reload.
   */
  forget(runId: string, delivered: boolean): void {
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    if (run && !delivered) this.finished.set(runId, run.state.revision);
  }

  private async loadLiveRuns(liveRuns: LiveRunsSource | undefined): Promise<GlobalPosition | undefined> {
    let live: Awaited<ReturnType<LiveRunsSource>>;
    try {
      live = await liveRuns?.();
    } catch (error) {
      this.options.log.warn('reading the live runs failed; folding the whole log', { error: String(error) });
      return undefined;
    }
    if (!live) return undefined;
    for (const runId of live.runIds) {
      const loaded = await loadRun(this.options.store, this.dags, runId, live.position);
      if (!loaded || isRunFinished(loaded.state.status)) continue;
      const lastEventId = loaded.runEvents.at(-1)?.id ?? runId;
      const run = activeRun(loaded.state, loaded.version, loaded.runEvents, lastEventId);
      this.runs.set(runId, run);
      this.options.folded(run);
    }
    this.options.log.info('leader starts from the read models checkpoint', {
      position: live.position,
      activeRuns: this.runs.size,
    });
    return live.position;
  }

  private async catchUp(): Promise<GlobalPosition | undefined> {
    let after: GlobalPosition | undefined;
    for (;;) {
      const batch = await this.options.store.readAll({
        after,
        maxCount: 1000,
        streamPrefixes: RUN_AND_ATTEMPT_STREAMS,
      });
      if (batch.length === 0) return after;
      for (const event of batch) await this.fold(event);
      after = batch[batch.length - 1]?.position;
    }
  }
}

/**
 * A run the leader follows, from its run-stream events so far (`[RunRequested]` for a new one):
 * the correlation id and request trace of its request, the traces its decisions carried.
 */
function activeRun(
  state: RunState,
  version: DagVersion,
  runEvents: readonly RecordedEvent[],
  lastEventId: string,
): ActiveRun {
  const requested = runEvents[0];
  const run: ActiveRun = {
    state,
    version,
    correlationId: requested?.metadata.correlationId ?? state.runId,
    lastEventId,
    deciding: false,
    dirty: false,
    notBefore: 0,
    requestTrace: requested?.metadata.traceparent,
  };
  for (const event of runEvents) rememberTraces(run, event);
  return run;
}

/** The run an event belongs to: from the data (attempt streams) or the stream name. */
export function runIdOf(event: RecordedEvent): string | undefined {
  if (event.streamName.startsWith('run-')) return event.streamName.slice(4);
  const data = event.data as { runId?: unknown };
  return typeof data.runId === 'string' ? data.runId : undefined;
}
