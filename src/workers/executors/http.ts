/**
 * HTTP tasks with undici. One deadline covers the whole exchange — connect, headers and the
 * body read — so a server that sends headers and then stalls still times out. The body is
 * streamed: it goes into the bounded `stdout` capture (and the `onChunk` sink), and at most
 * `maxOutputBytes` of it are kept to become the output; the rest is only counted.
 */
import { type Dispatcher, request as undiciRequest } from 'undici';
import {
  BoundedCapture,
  type CaptureLimits,
  defaultCaptureLimits,
  emptyCapture,
} from '../output/bounded-capture.js';
import { TemplateError } from '../templates.js';
import { bodyOutput, type RenderedRequest, renderHttpRequest, statusAccepted } from './http-request.js';
import {
  boundedFailure,
  defaultMaxOutputBytes,
  type ExecutionRequest,
  type ExecutionResult,
  type Failure,
  type HttpTask,
  type TaskExecutor,
} from './types.js';

/** Settings for the HTTP executor; the runtime builds them once from config. */
export interface HttpExecutorOptions {
  readonly capture?: CaptureLimits;
  /** Largest body that can become the output (and be parsed as JSON). */
  readonly maxOutputBytes?: number;
  /** undici dispatcher (e.g. a proxy agent); undici's global one when absent. */
  readonly dispatcher?: Dispatcher;
}

/** Runs `http` tasks. */
export class HttpExecutor implements TaskExecutor<HttpTask> {
  constructor(private readonly options: HttpExecutorOptions = {}) {}

  async execute(request: ExecutionRequest<HttpTask>): Promise<ExecutionResult> {
    const started = performance.now();
    const capture = new BoundedCapture(this.options.capture ?? defaultCaptureLimits);
    const result = (failure: Failure, httpStatus?: number): ExecutionResult => ({
      status: 'failed',
      failure: boundedFailure(failure),
      ...(httpStatus !== undefined && { httpStatus }),
      stdout: capture.snapshot(),
      stderr: emptyCapture,
      durationMs: performance.now() - started,
    });

    let rendered: RenderedRequest;
    try {
      rendered = renderHttpRequest(request.task, request);
    } catch (error) {
      const prefix = error instanceof TemplateError ? 'template: ' : 'invalid request: ';
      return result({ kind: 'internal', message: prefix + (error as Error).message });
    }
    if (request.signal.aborted) return result({ kind: 'cancelled', message: 'cancelled before the request' });

    const deadline = AbortSignal.timeout(request.timeoutMs);
    const signal = AbortSignal.any([request.signal, deadline]);
    const maxOutputBytes = this.options.maxOutputBytes ?? defaultMaxOutputBytes;
    let status: number | undefined;
    try {
      const response = await undiciRequest(rendered.url, {
        method: rendered.method as Dispatcher.HttpMethod,
        headers: rendered.headers,
        body: rendered.body ?? null,
        signal,
        // Our deadline covers headers and body; undici's own 300 s timers would only compete.
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(this.options.dispatcher && { dispatcher: this.options.dispatcher }),
      });
      status = response.statusCode;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        capture.write(chunk);
        request.onChunk?.('stdout', chunk);
        if (keptBytes + chunk.length <= maxOutputBytes) kept.push(chunk);
        keptBytes += chunk.length;
      }
      const body = Buffer.concat(kept);
      if (!statusAccepted(status, request.task.expectedStatus)) {
        const preview = body.toString('utf8', 0, Math.min(body.length, 300));
        return result(
          {
            kind: 'http_status',
            message: `${rendered.method} ${rendered.url.origin} answered ${status}: ${preview}`,
            httpStatus: status,
          },
          status,
        );
      }
      const contentType = response.headers['content-type'];
      const output = bodyOutput(
        body,
        capture.totalBytes,
        maxOutputBytes,
        Array.isArray(contentType) ? contentType[0] : contentType,
      );
      if (!output.ok) return result({ kind: 'internal', message: output.message }, status);
      return {
        status: 'succeeded',
        output: output.output,
        httpStatus: status,
        stdout: capture.snapshot(),
        stderr: emptyCapture,
        durationMs: performance.now() - started,
      };
    } catch (error) {
      return result(requestFailure(error, request, deadline, rendered), status);
    }
  }
}

/** Classifies an error from undici: our deadline, our cancel, a bad request, or the network. */
function requestFailure(
  error: unknown,
  request: ExecutionRequest<HttpTask>,
  deadline: AbortSignal,
  rendered: RenderedRequest,
): Failure {
  const target = `${rendered.method} ${rendered.url.origin}${rendered.url.pathname}`;
  if (request.signal.aborted) return { kind: 'cancelled', message: `cancelled during ${target}` };
  if (deadline.aborted) {
    return { kind: 'timeout', message: `${target} timed out after ${request.timeoutMs} ms` };
  }
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  // undici refuses e.g. a header value with CR/LF before sending anything: a task error, not the network's.
  if (code === 'UND_ERR_INVALID_ARG') {
    return { kind: 'internal', message: `invalid request ${target}: ${message}` };
  }
  const cause = (error as { cause?: unknown }).cause;
  const causeMessage = cause instanceof Error ? ` (${cause.message})` : '';
  return {
    kind: 'network',
    message: `${target} failed: ${typeof code === 'string' ? `${code} ` : ''}${message}${causeMessage}`,
  };
}
