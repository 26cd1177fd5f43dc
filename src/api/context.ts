/**
 * What the API needs from the process that serves it, and how a request reaches it: the app
 * keeps one `ApiDeps` in `app.locals`, controllers read it from their request.
 */
import type { Request, Response } from 'express';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { CommandContext } from '../commands/index.js';
import type { ApiConfig } from '../config/index.js';
import type { EventStore, GlobalPosition } from '../events/types.js';
import type { Logger } from '../observability/logger.js';
import type { ProjectorStatus, ReadModelQueries } from '../projections/index.js';
import type { Principal } from './auth.js';

/** The projector as the API uses it (a `Projector`, or a stand-in in `dagrun api` mode). */
export interface ProjectorView {
  readonly lagMs: number;
  readonly status: ProjectorStatus;
  waitForPosition(position: GlobalPosition, timeoutMs?: number): Promise<void>;
}

/** The engine as the API uses it: load shedding, health, metrics. Absent in `dagrun api`. */
export interface EngineView {
  readonly dispatcher: { readonly backlog: number; budget(): number };
  readonly leader: { readonly activeRuns: number };
  readonly workers: readonly { readonly id: string; readonly running: number }[];
}

export interface ApiDeps {
  readonly store: EventStore;
  readonly pool: pg.Pool;
  readonly queries: ReadModelQueries;
  readonly projector: ProjectorView;
  readonly engine?: EngineView | undefined;
  readonly registry: Registry;
  readonly log: Logger;
  readonly config: Pick<
    ApiConfig,
    'tokens' | 'openHealth' | 'maxBodyBytes' | 'requestTimeoutMs' | 'maxProjectorLagMs' | 'readYourWritesMs'
  >;
  /** Largest DAG spec accepted (DAGRUN_MAX_SPEC_BYTES). */
  readonly maxSpecBytes: number;
}

const DEPS = 'dagrun';

export function setDeps(locals: Record<string, unknown>, deps: ApiDeps): void {
  locals[DEPS] = deps;
}

export function depsOf(req: Request): ApiDeps {
  return req.app.locals[DEPS] as ApiDeps;
}

/** Per-request values the middleware put on `res.locals`. */
export interface RequestLocals {
  correlationId: string;
  traceparent: string | undefined;
  principal: Principal | undefined;
}

export function localsOf(res: Response): RequestLocals {
  return res.locals as RequestLocals;
}

/** A command context for this request, and the position of the last event it appended. */
export interface WriteContext {
  readonly ctx: CommandContext;
  lastPosition(): GlobalPosition | undefined;
}

/** Command metadata from the request (correlation id, actor, traceparent) over a recording store. */
export function writeContext(req: Request): WriteContext {
  const deps = depsOf(req);
  const locals = localsOf(req.res as Response);
  let last: GlobalPosition | undefined;
  const store: EventStore = {
    append: async (stream, events, expected, options) => {
      const result = await deps.store.append(stream, events, expected, options);
      last = result.position;
      return result;
    },
    readStream: (stream, options) => deps.store.readStream(stream, options),
    readAll: (options) => deps.store.readAll(options),
    subscribe: (options) => deps.store.subscribe(options),
    nextTerm: (key) => deps.store.nextTerm(key),
    close: () => Promise.resolve(),
  };
  return {
    ctx: {
      store,
      metadata: {
        correlationId: locals.correlationId,
        actor: locals.principal ? `user:${locals.principal.name}` : 'api:anonymous',
        ...(locals.traceparent ? { traceparent: locals.traceparent } : {}),
      },
    },
    lastPosition: () => last,
  };
}
