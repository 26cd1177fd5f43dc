/**
 * The request pipeline's own steps: correlation ids, metrics, media types, the request deadline
 * and load shedding. Each is a plain express middleware, composed in app.ts.
 */
import { randomUUID } from 'node:crypto';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { withCorrelation } from '../observability/logger.js';
import type { HttpMetrics } from '../observability/metrics.js';
import {
  ATTR,
  endSpan,
  SpanKind,
  startSpan,
  traceparentOf,
  tracingEnabled,
} from '../observability/tracing.js';
import { ApiError } from './api-error.js';
import { type ApiDeps, depsOf, localsOf } from './context.js';
import { sendProblem } from './problems.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,200}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const UNTRACED = /^\/(health|metrics)(\/|$)/;

/**
 * Takes `X-Correlation-Id` (or makes one) and echoes it; keeps a valid `traceparent`. With
 * tracing on, the request gets its span (a child of that traceparent), and the events it appends
 * carry the span's traceparent instead.
 */
export function correlate(req: Request, res: Response, next: NextFunction): void {
  const given = req.get('x-correlation-id');
  const correlationId = given && CORRELATION_ID.test(given) ? given : randomUUID();
  const header = req.get('traceparent');
  const traceparent = header && TRACEPARENT.test(header) ? header : undefined;
  const locals = localsOf(res);
  locals.correlationId = correlationId;
  // Probes and scrapes (every few seconds, forever) would drown the traces: they get no span.
  const traced = tracingEnabled() && !UNTRACED.test(req.path);
  locals.traceparent = traced ? traceRequest(req, res, traceparent, correlationId) : traceparent;
  res.setHeader('X-Correlation-Id', correlationId);
  next();
}

/** Opens the request span, ended when the answer is sent (or the client goes); its traceparent. */
function traceRequest(
  req: Request,
  res: Response,
  parent: string | undefined,
  correlationId: string,
): string | undefined {
  const span = startSpan(req.method, {
    parent,
    kind: SpanKind.SERVER,
    attributes: {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_URL_PATH]: req.path,
      [ATTR.correlationId]: correlationId,
    },
  });
  const end = () => {
    res.off('finish', end);
    res.off('close', end);
    const route = routeLabel(req);
    if (route !== 'unmatched') {
      span.updateName(`${req.method} ${route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, route);
    }
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
    endSpan(span, res.statusCode >= 500 ? `HTTP ${res.statusCode}` : undefined);
  };
  res.once('finish', end);
  res.once('close', end);
  return traceparentOf(span);
}

/**
 * Runs the rest of the pipeline inside the request's correlation context, so every log line
 * carries its id. Placed after the body parsers: their callbacks come from the socket's context.
 */
export function correlationContext(_req: Request, res: Response, next: NextFunction): void {
  withCorrelation({ correlationId: localsOf(res).correlationId }, () => next());
}

/** Counts and times every request by its route pattern. */
export function measure(metrics: HttpMetrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(req.method, routeLabel(req), res.statusCode, seconds);
    });
    next();
  };
}

function routeLabel(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return 'unmatched';
}

export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const JSON_TYPES = ['application/json', 'application/*+json'];

/** Only JSON bodies, and YAML on POST /api/v1/dags; 415 before anything is parsed. */
export function requireKnownMediaType(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if (!hasBody) {
    next();
    return;
  }
  const yamlAllowed = req.method === 'POST' && req.path === '/api/v1/dags';
  if (req.is(JSON_TYPES) || (yamlAllowed && req.is(YAML_TYPES))) {
    next();
    return;
  }
  next(
    new ApiError(
      415,
      'unsupported_media_type',
      `unsupported Content-Type ${req.get('content-type') ?? '(none)'}`,
      {
        details: { accepted: yamlAllowed ? [...JSON_TYPES, ...YAML_TYPES] : JSON_TYPES },
      },
    ),
  );
}

/**
 * Answers 503 when a handler has not answered within the deadline. The handler may still finish
 * its work (a command already appended stays appended); the client learns not to wait for it.
 * Event streams are exempt: they are meant to stay open.
 */
export function deadline(req: Request, res: Response, next: NextFunction): void {
  if (req.get('accept')?.includes('text/event-stream')) {
    next();
    return;
  }
  const ms = depsOf(req).config.requestTimeoutMs;
  const timer = setTimeout(() => {
    if (res.headersSent) return;
    sendProblem(req, res, {
      status: 503,
      code: 'request_timeout',
      detail: `no answer within ${ms} ms`,
      headers: { 'Retry-After': '1' },
    });
  }, ms);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
  res.once('finish', () => clearTimeout(timer));
  next();
}

/**
 * Load shedding before any work is accepted: a request that would queue more work (a run, a DLQ
 * retry) gets 429 while the scheduler's backlog is at its bound — the in-process dispatcher's, or
 * in `dagrun api` the read models' estimate of it; every write gets 503 while the read models lag
 * more than the limit (its answer could not be read back). Reads are served.
 */
export function shedLoad(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') {
    next();
    return;
  }
  const deps = depsOf(req);
  const queuesWork = /^\/api\/v1\/(dags\/[^/]+\/runs|dlq\/[^/]+\/retry)$/.test(req.path);
  const backlog = queuesWork ? backlogPressure(deps) : undefined;
  if (backlog?.full) {
    next(
      new ApiError(429, 'backlog_full', 'the scheduler backlog is at its bound; retry later', {
        details: { backlog: backlog.backlog, ...(backlog.estimated ? { estimated: true } : {}) },
        headers: { 'Retry-After': '2' },
      }),
    );
    return;
  }
  const lagMs = deps.projector.lagMs;
  if (lagMs > deps.config.maxProjectorLagMs) {
    next(
      new ApiError(503, 'projector_lagging', 'the read models are behind the log; retry later', {
        details: { lagMs, maxLagMs: deps.config.maxProjectorLagMs },
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(lagMs / 1000))) },
      }),
    );
    return;
  }
  next();
}

function backlogPressure(deps: ApiDeps): { backlog: number; full: boolean; estimated: boolean } | undefined {
  if (deps.engine) {
    const { dispatcher } = deps.engine;
    return { backlog: dispatcher.backlog, full: dispatcher.budget() <= 0, estimated: false };
  }
  const backlog = deps.estimates?.backlog;
  if (backlog === undefined || deps.estimates === undefined) return undefined;
  return { backlog, full: backlog >= deps.estimates.maxBacklog, estimated: true };
}
