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
  | { readonly type: 'CancelRun'; readonly runId: string; readonly reason?: string; readonly now: string };

export const runCommandDecider: Decider<RunCommandState, RunCommand, RunEvent> = {
  initialState: () => ({ requested: undefined, cancelRequested: false, finished: undefined }),

  evolve(state, event) {
    switch (event.type) {
      case 'RunRequested':
        return {
          ...state,
          requested: { dagId: event.data.dagId, dagVersion: event.data.dagVersion, params: event.data.params },
        };
      case 'RunCancelRequested':
        return { ...state, cancelRequested: true };
      case 'RunSucceeded':
        return { ...state, finished: 'succeeded' };
      case 'RunFailed':
        return { ...state, finished: 'failed' };
      case 'RunCancelled':
        return { ...state, finished: 'cancelled' };
      case 'TaskQueued':
      case 'TaskSkipped':
      case 'TaskUpstreamFailed':
      case 'DeadLetterDiscarded':
      case 'TaskRetryScheduled':
      case 'TaskDeadLettered':
      case 'TaskRequeued':
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
        if (!state.requested) throw new NotFoundError(`run ${command.runId} does not exist`, { runId: command.runId });
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
      default:
        return assertNever(command);
    }
  },
};

function decideRequestRun(command: Extract<RunCommand, { type: 'RequestRun' }>, state: RunCommandState): RunEvent[] {
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
    throw new ConflictError('dag_paused', `DAG ${dagId} is paused; resume it before requesting runs`, { dagId });
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
