/**
 * Loads what the leader folds: DAG versions (as plans, cached — a version never changes) and,
 * when a run has to be rebuilt, its run stream merged with its attempt streams in the global
 * order, so the rebuilt state is exactly the one a live fold would have reached.
 */
import type { NormalizedDag, NormalizedTask } from '../dag/index.js';
import { comparePositions } from '../events/position.js';
import { type AttemptEvent, type RunEvent, streams } from '../events/schemas/index.js';
import type { EventStore, GlobalPosition, RecordedEvent } from '../events/types.js';
import { evolve } from './core/evolve.js';
import { planFromDag, type RunPlan } from './core/plan.js';
import { initialRunState, type RunState } from './core/state.js';

export interface DagVersion {
  readonly dag: NormalizedDag;
  readonly plan: RunPlan;
  readonly tasks: ReadonlyMap<string, NormalizedTask>;
}

export class DagVersions {
  private readonly cache = new Map<string, DagVersion>();

  constructor(private readonly store: EventStore) {}

  async get(dagId: string, version: number): Promise<DagVersion> {
    const key = `${dagId}@${version}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    for (const event of await this.store.readStream(streams.dag(dagId))) {
      if (event.type !== 'DagVersionPublished') continue;
      const data = event.data as { version: number; spec: NormalizedDag };
      if (!this.cache.has(`${dagId}@${data.version}`)) {
        this.cache.set(`${dagId}@${data.version}`, {
          dag: data.spec,
          plan: planFromDag(data.spec),
          tasks: new Map(data.spec.tasks.map((t) => [t.id, t])),
        });
      }
    }
    const found = this.cache.get(key);
    if (!found) throw new Error(`DAG ${dagId} has no version ${version}`);
    return found;
  }
}

/** Folds one recorded run or attempt event (the envelope gives run events their revision). */
export function foldRecorded(state: RunState, event: RecordedEvent): void {
  if (event.streamName.startsWith('run-')) {
    evolve(state, { type: event.type, data: event.data, revision: event.revision } as RunEvent & {
      revision: number;
    });
  } else {
    evolve(state, { type: event.type, data: event.data } as AttemptEvent);
  }
}

export interface LoadedRun {
  readonly state: RunState;
  readonly version: DagVersion;
  readonly runEvents: RecordedEvent[];
}

/** Rebuilds a run from the store; undefined when the run stream has no RunRequested. */
export async function loadRun(
  store: EventStore,
  dags: DagVersions,
  runId: string,
  /** Fold only the events at or before this position (the run as it was then). */
  upTo?: GlobalPosition,
): Promise<LoadedRun | undefined> {
  const upToPosition = (events: RecordedEvent[]) =>
    upTo === undefined ? events : events.filter((e) => comparePositions(e.position, upTo) <= 0);
  const runEvents = upToPosition(await store.readStream(streams.run(runId)));
  const requested = runEvents.find((e) => e.type === 'RunRequested');
  if (!requested) return undefined;
  const { dagId, dagVersion } = requested.data as { dagId: string; dagVersion: number };
  const version = await dags.get(dagId, dagVersion);
  const attempts = new Set<string>();
  for (const e of runEvents) {
    if (e.type === 'TaskQueued') {
      const { taskId, attempt } = e.data as { taskId: string; attempt: number };
      attempts.add(streams.attempt(runId, taskId, attempt));
    }
  }
  const attemptEvents = upToPosition(
    (await Promise.all([...attempts].map((s) => store.readStream(s)))).flat(),
  );
  const merged = [...runEvents, ...attemptEvents].sort((a, b) => comparePositions(a.position, b.position));
  const state = initialRunState(runId, version.plan);
  for (const event of merged) foldRecorded(state, event);
  return { state, version, runEvents };
}
