/**
 * The SQL of one batch, in the order it runs. Every event gets its handler's statements, in log
 * order — except the three events of a task's happy path (TaskQueued, AttemptStarted,
 * AttemptSucceeded), which make up most of a busy log. Those are gathered into a group and
 * applied set-wise (handlers/task-flow.ts): three statements for the whole group per kind
 * instead of two or three per event.
 *
 * Gathering moves their statements later than the events that followed them in the log, which is
 * sound only while nothing in between depends on them or changes what they read. So:
 *
 * - a group holds at most one event of each kind per task, and each task's events in the order
 *   queued → started → succeeded (the group is applied in that order); a second event of a task
 *   that would break that (a retry's TaskQueued) applies the group first;
 * - any other event of a run that has events in the group applies the group first (it may read
 *   or change what they wrote: RunSucceeded, TaskRetryScheduled, AttemptFailed, AttemptReleased…);
 * - any other event of another run goes ahead at once: it touches that run's rows, and `workers`
 *   counters, whose increments commute with the group's;
 * - an event of no run (a DAG, the workers stream) applies the group first.
 *
 * So each row ends as the per-event statements leave it, which the differential test
 * (test/integration/projections/batch-plan.test.ts) checks on real logs split every way.
 */
import type { CompiledQuery } from 'kysely';
import { categoryOf, type RunEvent } from '../events/schemas/index.js';
import type { RecordedEvent } from '../events/types.js';
import { projectEvent, refreshRunSummaries, refreshStreamRevisions, runOfEvent } from './handlers/index.js';
import { runIdOfStream } from './handlers/support.js';
import {
  type AttemptStarted,
  type AttemptSucceeded,
  queueTasks,
  startAttempts,
  succeedAttempts,
  type TaskQueued,
} from './handlers/task-flow.js';

/** The order the kinds of a group are applied in. */
const QUEUED = 0;
const STARTED = 1;
const SUCCEEDED = 2;

type Flow =
  | {
      readonly phase: typeof QUEUED;
      readonly runId: string;
      readonly taskId: string;
      readonly event: TaskQueued;
    }
  | {
      readonly phase: typeof STARTED;
      readonly runId: string;
      readonly taskId: string;
      readonly event: AttemptStarted;
    }
  | {
      readonly phase: typeof SUCCEEDED;
      readonly runId: string;
      readonly taskId: string;
      readonly event: AttemptSucceeded;
    };

/** The event as a step of a task's happy path, or undefined for any other event. */
function flowOf(event: RecordedEvent): Flow | undefined {
  const category = categoryOf(event.streamName);
  if (category === 'run' && event.type === 'TaskQueued') {
    const runId = runIdOfStream(event.streamName);
    if (runId === undefined) return undefined;
    const queued = { ...(event as unknown as Extract<RunEvent, { type: 'TaskQueued' }>), runId };
    return { phase: QUEUED, runId, taskId: queued.data.taskId, event: queued };
  }
  if (category === 'attempt' && (event.type === 'AttemptStarted' || event.type === 'AttemptSucceeded')) {
    const data = event.data as { runId: string; taskId: string };
    return event.type === 'AttemptStarted'
      ? { phase: STARTED, runId: data.runId, taskId: data.taskId, event: event as unknown as AttemptStarted }
      : {
          phase: SUCCEEDED,
          runId: data.runId,
          taskId: data.taskId,
          event: event as unknown as AttemptSucceeded,
        };
  }
  return undefined;
}

/** Happy-path events waiting to be applied set-wise. */
class FlowGroup {
  private queued: TaskQueued[] = [];
  private started: AttemptStarted[] = [];
  private succeeded: AttemptSucceeded[] = [];
  /** The latest phase held per task (`run\0task`). */
  private readonly phases = new Map<string, number>();
  private readonly runs = new Set<string>();

  get empty(): boolean {
    return this.phases.size === 0;
  }

  hasRun(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Whether `flow` can join without breaking the order of its task's events. */
  accepts(flow: Flow): boolean {
    const held = this.phases.get(`${flow.runId}\0${flow.taskId}`);
    return held === undefined || held < flow.phase;
  }

  add(flow: Flow): void {
    this.phases.set(`${flow.runId}\0${flow.taskId}`, flow.phase);
    this.runs.add(flow.runId);
    switch (flow.phase) {
      case QUEUED:
        this.queued.push(flow.event);
        return;
      case STARTED:
        this.started.push(flow.event);
        return;
      case SUCCEEDED:
        this.succeeded.push(flow.event);
        return;
      default:
        assertNever(flow);
    }
  }

  /** The group's statements (queued, then started, then succeeded); empties the group. */
  drain(): CompiledQuery[] {
    const statements = [
      ...(this.queued.length > 0 ? queueTasks(this.queued) : []),
      ...(this.started.length > 0 ? startAttempts(this.started) : []),
      ...(this.succeeded.length > 0 ? succeedAttempts(this.succeeded) : []),
    ];
    this.queued = [];
    this.started = [];
    this.succeeded = [];
    this.phases.clear();
    this.runs.clear();
    return statements;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected flow ${JSON.stringify(value)}`);
}

/** Every statement that applies `events` (in log order) to the read models; pure. */
export function planBatch(events: readonly RecordedEvent[]): CompiledQuery[] {
  const statements: CompiledQuery[] = [];
  const group = new FlowGroup();
  for (const event of events) {
    const flow = flowOf(event);
    if (flow) {
      if (!group.accepts(flow)) statements.push(...group.drain());
      group.add(flow);
      continue;
    }
    if (!group.empty) {
      const runId = runOfEvent(event);
      if (runId === undefined || group.hasRun(runId)) statements.push(...group.drain());
    }
    statements.push(...projectEvent(event));
  }
  statements.push(...group.drain(), ...refreshRunSummaries(events), ...refreshStreamRevisions(events));
  return statements;
}
