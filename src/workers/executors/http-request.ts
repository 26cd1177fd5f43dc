/**
 * The pure half of HTTP tasks: rendering the request from the task and templates, matching the
 * status, and turning the response body into an output.
 */
import { renderJsonTemplate, renderTemplate, type TemplateContext } from '../templates.js';
import type { HttpTask, StatusMatcher } from './types.js';

/** A request ready for undici. */
export interface RenderedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/**
 * Renders url (values percent-encoded), headers (text) and body (a string as text; any other
 * value as JSON with each string inside rendered as text). A non-string body gets
 * `content-type: application/json` unless the task sets a content type. Throws TemplateError,
 * or TypeError for a URL that does not parse.
 */
export function renderHttpRequest(task: HttpTask, context: TemplateContext): RenderedRequest {
  const url = new URL(renderTemplate(task.url, context, 'url'));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(task.headers ?? {})) {
    headers[name] = renderTemplate(value, context, 'text');
  }
  let body: string | undefined;
  if (typeof task.body === 'string') {
    body = renderTemplate(task.body, context, 'text');
  } else if (task.body !== undefined) {
    body = JSON.stringify(renderJsonTemplate(task.body, context));
    const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
    if (!hasType) headers['content-type'] = 'application/json';
  }
  return { method: (task.method ?? 'GET').toUpperCase(), url, headers, body };
}

/** Whether `status` is accepted; 200–299 when the task lists nothing. */
export function statusAccepted(status: number, expected: readonly StatusMatcher[] | undefined): boolean {
  if (expected === undefined || expected.length === 0) return status >= 200 && status <= 299;
  return expected.some((matcher) =>
    typeof matcher === 'number' ? status === matcher : status >= matcher.min && status <= matcher.max,
  );
}

/** `application/json`, `application/problem+json`, `text/json`… */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return /^[a-z]+\/([a-z0-9.!#$&^_-]+\+)?json$/.test(mediaType);
}

/** The output of a successful response, or why it cannot be one. */
export type BodyOutput =
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly message: string };

/**
 * The body as JSON when the content type says JSON (an empty body is `null`), else as text.
 * A body over the limit is not an output: it was not kept whole, and a truncated value must not
 * pass downstream as if it were complete.
 */
export function bodyOutput(
  body: Buffer,
  totalBytes: number,
  maxBytes: number,
  contentType: string | undefined,
): BodyOutput {
  if (totalBytes > maxBytes) {
    return {
      ok: false,
      message: `the response body is ${totalBytes} bytes, over the ${maxBytes}-byte output limit`,
    };
  }
  const text = body.toString('utf8');
  if (!isJsonContentType(contentType)) return { ok: true, output: text };
  if (text.trim() === '') return { ok: true, output: null };
  try {
    return { ok: true, output: JSON.parse(text) as unknown };
  } catch (error) {
    return {
      ok: false,
      message: `the response says ${contentType} but is not JSON: ${(error as Error).message}`,
    };
  }
}
