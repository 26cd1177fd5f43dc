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
import { assertPrecondition, type IfMatch } from './preconditions.js';

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

/**
 * The scheduler and workers as the read models show them: what `dagrun api`, with no engine in
 * process, sheds load and reports health by (read-model-estimates.ts). Undefined figures: not
 * read yet, or the database did not answer.
 */
export interface EngineEstimates {
  /** Tasks queued and not yet started in unfinished runs. */
  readonly backlog: number | undefined;
  /** The scheduler's bound (DAGRUN_MAX_BACKLOG): writes that queue work get 429 at it. */
  readonly maxBacklog: number;
  readonly workers: { readonly active: number; readonly left: number; readonly lost: number } | undefined;
}

export interface ApiDeps {
  readonly store: EventStore;
  readonly pool: pg.Pool;
  readonly queries: ReadModelQueries;
  readonly projector: ProjectorView;
  readonly engine?: EngineView | undefined;
  /** Read-model estimates standing in for `engine` when it is absent (`dagrun api`). */
  readonly estimates?: EngineEstimates | undefined;
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
  /**
   * Call after the command returned: when it appended nothing to the guarded stream (it had
   * nothing to do), its If-Match must still have held, else 412. A no-op without a guard passes.
   */
  settlePrecondition(): void;
}

/** A write made conditional on one stream's revision (If-Match); see preconditions.ts. */
export interface WriteGuard {
  readonly stream: string;
  readonly ifMatch: IfMatch;
}

/**
 * Command metadata from the request (correlation id, actor, traceparent) over a recording store.
 *
 * With a guard, the If-Match is checked when the command appends to the guarded stream, against
 * the revision its read of the stream saw (which the append expects: a writer in between makes
 * the append conflict, the command re-read and decide again, and the check run again). Checking
 * at the append, not the read, follows RFC 9110 §13.2.1: a command that fails on its own (404 an
 * unknown DAG, 409 a finished run) answers that, whatever the If-Match; a command with nothing to
 * do is checked by `settlePrecondition`.
 */
export function writeContext(req: Request, guard?: WriteGuard): WriteContext {
  const deps = depsOf(req);
  const locals = localsOf(req.res as Response);
  let last: GlobalPosition | undefined;
  /** Last revision of the guarded stream as the command last read it in full (-1: no stream). */
  let read: number | undefined;
  let appended = false;
  const store: EventStore = {
    append: async (stream, events, expected, options) => {
      if (guard && stream === guard.stream) {
        if (read === undefined || expected !== (read < 0 ? 'no_stream' : read)) {
          throw new Error(
            `an append to ${stream} did not expect the revision its If-Match is checked against`,
          );
        }
        assertPrecondition(guard.ifMatch, stream, read);
      }
      const result = await deps.store.append(stream, events, expected, options);
      last = result.position;
      if (guard && stream === guard.stream) appended = true;
      return result;
    },
    readStream: async (stream, options) => {
      const events = await deps.store.readStream(stream, options);
      const full = options?.fromRevision === undefined && options?.maxCount === undefined;
      if (guard && stream === guard.stream && full) read = events.length - 1;
      return events;
    },
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
    settlePrecondition() {
      if (guard && !appended) assertPrecondition(guard.ifMatch, guard.stream, read ?? -1);
    },
  };
}
