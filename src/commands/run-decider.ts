/**
 * The command side of the `run-<runId>` stream: request a run (idempotent by key) and cancel it.
 * The scheduler's decisions land in the same stream; this fold only tracks what commands need.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import type { RunEvent } from '../events/schemas/index.js';
import { assertNever, type DagState, requireDag } from './dag-decider.js';
import type { Decider } from './decider.js';
import { type ParamValue, resolveParams, sameParams } from './params.js';

export interface RunCommandState {
  readonly requested:
    | { readonly dagId: string; readonly dagVersion: number; readonly params: Record<string, ParamValue> }
    | undefined;
  readonly cancelRequested: boolean;
  readonly finished: 'succeeded' | 'failed' | 'cancelled' | undefined;
  /** Open dead-letter items: task id → the attempt that was dead-lettered. */
  readonly deadLetters: ReadonlyMap<string, number>;
}

export type RunCommand =
  | {
      readonly type: 'RequestRun';
      readonly runId: string;
      readonly dagId: string;
      /** The DAG's state, read from its own stream just before. */
      readonly dag: DagState;
      readonly params: Readonly<Record<string, unknown>>;
      readonly idempotencyKey?: string | undefined;
      readonly now: string;
    }
  | { readonly type: 'CancelRun'; readonly runId: string; readonly reason?: string; readonly now: string }
  | {
      readonly type: 'RetryDeadLetter';
      readonly runId: string;
      readonly taskId: string;
      readonly now: string;
    }
  | {
      readonly type: 'DiscardDeadLetter';
      readonly runId: string;
      readonly taskId: string;
      readonly now: string;
    };

export const runCommandDecider: Decider<RunCommandState, RunCommand, RunEvent> = {
  initialState: () => ({
    requested: undefined,
    cancelRequested: false,
    finished: undefined,
    deadLetters: new Map(),
  }),

  evolve(state, event) {
    switch (event.type) {
      case 'RunRequested':
        return {
          ...state,
          requested: {
            dagId: event.data.dagId,
            dagVersion: event.data.dagVersion,
            params: event.data.params,
          },
        };
      case 'RunCancelRequested':
        return { ...state, cancelRequested: true };
      case 'RunSucceeded':
        return { ...state, finished: 'succeeded' };
      case 'RunFailed':
        return { ...state, finished: 'failed' };
      case 'RunCancelled':
        return { ...state, finished: 'cancelled' };
      case 'TaskDeadLettered':
        return {
          ...state,
          deadLetters: new Map(state.deadLetters).set(event.data.taskId, event.data.attempt),
        };
      case 'TaskRequeued':
        // A DLQ retry reopens a failed run.
        return { ...state, finished: undefined, deadLetters: without(state.deadLetters, event.data.taskId) };
      case 'DeadLetterDiscarded':
        return { ...state, deadLetters: without(state.deadLetters, event.data.taskId) };
      case 'TaskQueued':
      case 'TaskSkipped':
      case 'TaskUpstreamFailed':
      case 'TaskRetryScheduled':
        return state;
      default:
        return assertNever(event);
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'RequestRun':
        return decideRequestRun(command, state);
      case 'CancelRun': {
        if (!state.requested)
          throw new NotFoundError(`run ${command.runId} does not exist`, { runId: command.runId });
        if (state.finished) {
          throw new ConflictError('run_finished', `run ${command.runId} already ${state.finished}`, {
            runId: command.runId,
            status: state.finished,
          });
        }
        if (state.cancelRequested) return [];
        return [
          {
            type: 'RunCancelRequested',
            data: { requestedAt: command.now, ...(command.reason ? { reason: command.reason } : {}) },
          },
        ];
      }
      case 'RetryDeadLetter': {
        requireDeadLetter(command, state);
        return [{ type: 'TaskRequeued', data: { taskId: command.taskId, requeuedAt: command.now } }];
      }
      case 'DiscardDeadLetter': {
        const attempt = requireDeadLetter(command, state);
        return [
          {
            type: 'DeadLetterDiscarded',
            data: { taskId: command.taskId, attempt, discardedAt: command.now },
          },
        ];
      }
      default:
        return assertNever(command);
    }
  },
};

function without(map: ReadonlyMap<string, number>, key: string): ReadonlyMap<string, number> {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}

/** The open dead-letter item of a task, or NotFoundError. A cancelled run's items can't be retried. */
function requireDeadLetter(
  command: { runId: string; taskId: string; type: string },
  state: RunCommandState,
): number {
  const attempt = state.deadLetters.get(command.taskId);
  if (!state.requested || attempt === undefined) {
    throw new NotFoundError(`no open dead-letter item for task ${command.taskId} of run ${command.runId}`, {
      runId: command.runId,
      taskId: command.taskId,
    });
  }
  if (command.type === 'RetryDeadLetter' && (state.finished === 'cancelled' || state.cancelRequested)) {
    throw new ConflictError(
      'run_cancelled',
      `run ${command.runId} was cancelled; its dead letters cannot be retried`,
      {
        runId: command.runId,
      },
    );
  }
  return attempt;
}

function decideRequestRun(
  command: Extract<RunCommand, { type: 'RequestRun' }>,
  state: RunCommandState,
): RunEvent[] {
  const { runId, dagId, dag, idempotencyKey, now } = command;
  const version = requireDag(dag, dagId);
  const params = resolveParams(version.spec.params, command.params);
  if (state.requested) {
    // The run id came from the idempotency key: the same request again is the same run.
    if (state.requested.dagId === dagId && sameParams(state.requested.params, params)) return [];
    throw new ConflictError(
      'idempotency_key_reused',
      `idempotency key ${JSON.stringify(idempotencyKey)} was already used for DAG ${state.requested.dagId} with other params`,
      { runId, idempotencyKey, params: state.requested.params },
    );
  }
  if (dag.status === 'paused') {
    throw new ConflictError('dag_paused', `DAG ${dagId} is paused; resume it before requesting runs`, {
      dagId,
    });
  }
  return [
    {
      type: 'RunRequested',
      data: {
        runId,
        dagId,
        dagVersion: version.version,
        params,
        requestedAt: now,
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      },
    },
  ];
}
