/**
 * A run's history straight from the log: its run stream and the attempt streams it queued,
 * merged in the global order; and the run's state at a point of that history (`?asOf=`), folded
 * with the scheduler's own pure core so it is exactly what the leader saw then.
 */
import { ValidationError } from '../errors.js';
import { comparePositions, isGlobalPosition } from '../events/position.js';
import { streams } from '../events/schemas/index.js';
import type { EventStore, GlobalPosition, RecordedEvent } from '../events/types.js';
import { initialRunState } from '../scheduler/core/state.js';
import { DagVersions, foldRecorded } from '../scheduler/run-loader.js';
import type { Failure, RunSnapshot } from './models.js';

/** Every event of the run and its attempts, in the global order; empty for an unknown run. */
export async function readRunHistory(store: EventStore, runId: string): Promise<RecordedEvent[]> {
  const runEvents = await store.readStream(streams.run(runId));
  const attemptStreams = new Set<string>();
  for (const event of runEvents) {
    if (event.type !== 'TaskQueued') continue;
    const { taskId, attempt } = event.data as { taskId: string; attempt: number };
    attemptStreams.add(streams.attempt(runId, taskId, attempt));
  }
  const attemptEvents = (await Promise.all([...attemptStreams].map((s) => store.readStream(s)))).flat();
  return [...runEvents, ...attemptEvents].sort((a, b) => comparePositions(a.position, b.position));
}

/** Whether a recorded event belongs to the run (its run stream or one of its attempt streams). */
export function belongsToRun(runId: string, event: Pick<RecordedEvent, 'streamName'>): boolean {
  return event.streamName === streams.run(runId) || event.streamName.startsWith(`attempt-${runId}-`);
}

/** `asOf` is a global position or an ISO-8601 instant; anything else is a 400. */
export type AsOf = { kind: 'position'; position: GlobalPosition } | { kind: 'time'; at: Date };

export function parseAsOf(value: string): AsOf {
  if (isGlobalPosition(value)) return { kind: 'position', position: value };
  const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
  const at = new Date(value);
  if (isoInstant.test(value) && !Number.isNaN(at.getTime())) return { kind: 'time', at };
  throw new ValidationError('asOf must be a global position or an ISO-8601 instant', [
    {
      path: 'asOf',
      kind: 'invalid_as_of',
      message:
        'expected a position like 0000000000000abc-0000000000000012 or a time like 2025-01-31T12:00:00Z',
    },
  ]);
}

/**
 * The run folded up to and including `asOf`; undefined when the run did not exist yet then. For
 * a time, events count by their commit-side `createdAt`; for a position, by the global order.
 */
export async function runAsOf(
  store: EventStore,
  history: readonly RecordedEvent[],
  runId: string,
  asOfText: string,
  asOf: AsOf,
): Promise<RunSnapshot | undefined> {
  const included = history.filter((e) =>
    asOf.kind === 'position' ? comparePositions(e.position, asOf.position) <= 0 : e.createdAt <= asOf.at,
  );
  const requested = included.find((e) => e.type === 'RunRequested');
  const last = included.at(-1);
  if (!requested || !last) return undefined;
  const { dagId, dagVersion } = requested.data as { dagId: string; dagVersion: number };
  const version = await new DagVersions(store).get(dagId, dagVersion);
  const state = initialRunState(runId, version.plan);
  for (const event of included) foldRecorded(state, event);
  return {
    id: runId,
    dagId,
    dagVersion,
    status: state.status,
    cancelRequested: state.cancelRequested,
    asOf: asOfText,
    position: last.position,
    at: last.createdAt.toISOString(),
    tasks: version.plan.tasks.map((planned) => {
      const task = state.tasks.get(planned.id)!;
      return {
        taskId: planned.id,
        status: task.status,
        attempt: task.attempt,
        workerId: task.workerId ?? null,
        lastError: (task.lastFailure as Failure | undefined) ?? null,
      };
    }),
  };
}
