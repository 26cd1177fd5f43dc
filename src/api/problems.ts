/**
 * The one place errors become RFC 7807 problem details (`application/problem+json`). Each has a
 * stable `code`; `type` is derived from it. Domain errors carry their status (src/errors.ts);
 * tsoa's ValidateError and body-parser failures are mapped here; anything else is a 500 whose
 * detail is withheld from the client and logged.
 */
import type { NextFunction, Request, Response } from 'express';
import { ValidateError } from 'tsoa';
import { DagrunError, ValidationError, type ValidationIssue } from '../errors.js';
import { ApiError } from './api-error.js';
import { depsOf, localsOf } from './context.js';
import type { Problem, ProblemIssue } from './models.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_TYPE_BASE = 'https://dagrun.dev/problems/';

interface Mapped {
  status: number;
  code: string;
  detail: string;
  issues?: ProblemIssue[];
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
}

/** Express error middleware: every error that reaches it becomes a problem response. */
export function problemHandler(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) {
    // The deadline (or an event stream) already answered; the late outcome only goes to the log.
    depsOf(req).log.debug('error after the response was sent', { path: req.path, error: String(error) });
    return;
  }
  const mapped = mapError(error);
  if (mapped.status >= 500 && mapped.code === 'internal') {
    depsOf(req).log.error('request failed', {
      method: req.method,
      path: req.path,
      error: String(error),
      stack: (error as Error)?.stack,
    });
  }
  sendProblem(req, res, mapped);
}

/** Answers 404 for routes nothing matched. */
export function routeNotFound(req: Request, res: Response): void {
  sendProblem(req, res, {
    status: 404,
    code: 'route_not_found',
    detail: `no route ${req.method} ${req.path}`,
  });
}

export function sendProblem(req: Request, res: Response, mapped: Mapped): void {
  const problem: Problem & Record<string, unknown> = {
    type: PROBLEM_TYPE_BASE + mapped.code,
    title: TITLES[mapped.status] ?? 'Error',
    status: mapped.status,
    detail: mapped.detail,
    code: mapped.code,
    instance: req.originalUrl,
    correlationId: localsOf(res).correlationId,
    ...(mapped.extra ?? {}),
    ...(mapped.issues ? { issues: mapped.issues } : {}),
  };
  for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
  res.status(mapped.status).type('application/problem+json').send(JSON.stringify(problem));
}

function mapError(error: unknown): Mapped {
  if (error instanceof ValidateError) {
    return {
      status: 400,
      code: 'invalid_request',
      detail: 'the request does not match the API schema',
      issues: Object.entries(error.fields).map(([path, field]) => ({
        path,
        message: field.message,
        kind: 'schema',
      })),
    };
  }
  if (error instanceof ApiError) {
    return {
      status: error.status,
      code: error.code,
      detail: error.message,
      headers: error.headers,
      ...(error.details['issues'] ? { issues: error.details['issues'] as ProblemIssue[] } : {}),
      extra: withoutIssues(error.details),
    };
  }
  if (error instanceof ValidationError) {
    return { status: error.status, code: error.code, detail: error.message, issues: issuesOf(error.issues) };
  }
  if (error instanceof DagrunError) {
    return { status: error.status, code: error.code, detail: error.message, extra: error.details };
  }
  const parser = bodyParserError(error);
  if (parser) return parser;
  return { status: 500, code: 'internal', detail: 'an internal error occurred; see the server log' };
}

function withoutIssues(details: Record<string, unknown>): Record<string, unknown> {
  const { issues: _issues, ...rest } = details;
  return rest;
}

export function issuesOf(issues: readonly ValidationIssue[]): ProblemIssue[] {
  return issues.map((i) => ({
    path: i.path,
    message: i.message,
    kind: i.kind,
    ...(i.line !== undefined ? { line: i.line } : {}),
    ...(i.column !== undefined ? { column: i.column } : {}),
  }));
}

/** body-parser's errors carry `type` and `status`. */
function bodyParserError(error: unknown): Mapped | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status } = error as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.too.large':
      return { status: 413, code: 'body_too_large', detail: 'the request body is larger than the limit' };
    case 'entity.parse.failed': {
      const message = (error as { message?: unknown }).message;
      // Our own refusals (a reserved key) say what is wrong; JSON syntax errors stay generic.
      const reserved = typeof message === 'string' && message.includes('is not allowed in a request body');
      return {
        status: 400,
        code: 'malformed_body',
        detail: reserved ? (message as string) : 'the request body is not valid JSON',
      };
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_media_type', detail: 'unsupported body encoding or charset' };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return { status: 400, code: 'malformed_body', detail: 'the request body could not be read' };
    default:
      return typeof status === 'number' && status >= 400 && status < 500
        ? { status, code: 'bad_request', detail: 'the request could not be read' }
        : undefined;
  }
}
