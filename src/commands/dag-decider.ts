/**
 * The `dag-<dagId>` stream: register (publish a version only when the normalized spec changed),
 * pause, resume.
 */
import type { NormalizedDag } from '../dag/index.js';
import { NotFoundError } from '../errors.js';
import type { DagEvent } from '../events/schemas/index.js';
import type { Decider } from './decider.js';

export interface PublishedVersion {
  readonly version: number;
  readonly specHash: string;
  readonly spec: NormalizedDag;
}

export interface DagState {
  readonly status: 'absent' | 'active' | 'paused' | 'deleted';
  readonly latest: PublishedVersion | undefined;
}

export type DagCommand =
  | {
      readonly type: 'RegisterDag';
      readonly dagId: string;
      readonly spec: NormalizedDag;
      readonly specHash: string;
      readonly now: string;
    }
  | { readonly type: 'PauseDag'; readonly dagId: string; readonly reason?: string; readonly now: string }
  | { readonly type: 'ResumeDag'; readonly dagId: string; readonly now: string };

export const dagDecider: Decider<DagState, DagCommand, DagEvent> = {
  initialState: () => ({ status: 'absent', latest: undefined }),

  evolve(state, event) {
    switch (event.type) {
      case 'DagRegistered':
        return { ...state, status: 'active' };
      case 'DagVersionPublished':
        return {
          ...state,
          latest: { version: event.data.version, specHash: event.data.specHash, spec: event.data.spec },
        };
      case 'DagPaused':
        return { ...state, status: 'paused' };
      case 'DagResumed':
        return { ...state, status: 'active' };
      case 'DagDeleted':
        return { ...state, status: 'deleted' };
      default:
        return assertNever(event);
    }
  },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterDag': {
        const { dagId, spec, specHash, now } = command;
        const version = (state.latest?.version ?? 0) + 1;
        const publish: DagEvent = {
          type: 'DagVersionPublished',
          data: { dagId, version, specHash, spec, publishedAt: now },
        };
        if (state.status === 'absent' || state.status === 'deleted') {
          return [{ type: 'DagRegistered', data: { dagId, registeredAt: now } }, publish];
        }
        return state.latest?.specHash === specHash ? [] : [publish];
      }
      case 'PauseDag':
        requireDag(state, command.dagId);
        return state.status === 'paused'
          ? []
          : [
              {
                type: 'DagPaused',
                data: {
                  dagId: command.dagId,
                  pausedAt: command.now,
                  ...(command.reason ? { reason: command.reason } : {}),
                },
              },
            ];
      case 'ResumeDag':
        requireDag(state, command.dagId);
        return state.status === 'active'
          ? []
          : [{ type: 'DagResumed', data: { dagId: command.dagId, resumedAt: command.now } }];
      default:
        return assertNever(command);
    }
  },
};

/** Throws NotFoundError unless the DAG is registered (and not deleted). */
export function requireDag(state: DagState, dagId: string): PublishedVersion {
  if ((state.status !== 'active' && state.status !== 'paused') || !state.latest) {
    throw new NotFoundError(`DAG ${dagId} is not registered`, { dagId });
  }
  return state.latest;
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
