/**
 * Checks for values that zod's built-in types would describe poorly: ids, durations, URLs,
 * methods, statuses, bodies, map keys. Each returns the normalized value or a message written
 * for the person editing the file (the path is added by the caller).
 */
import { formatDuration, tryParseDuration } from './duration.js';
import { type DagIssueKind, describeValue, quote } from './issues.js';
import { HTTP_METHODS, type HttpMethod, MAX_DURATION_MS, type StatusRange } from './normalized.js';
import { closestMatch, didYouMean } from './suggest.js';

/** A checked value, or why it was refused (the caller adds the path to the message). */
export type CheckResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly kind: DagIssueKind; readonly message: string };

const pass = <T>(value: T): CheckResult<T> => ({ ok: true, value });
const fail = (kind: DagIssueKind, message: string): CheckResult<never> => ({ ok: false, kind, message });

/** `expected a string, got 8080`, with advice to quote when YAML turned the text into a number. */
export function expectedText(value: unknown, what = 'a string'): CheckResult<never> {
  const hint =
    typeof value === 'number' || typeof value === 'boolean'
      ? `; put it in quotes ('${String(value)}') to keep it as text`
      : '';
  return fail('invalid_type', `expected ${what}, got ${describeValue(value)}${hint}`);
}

/** Task ids and DAG names: 1–128 of `a-z 0-9 _ . -`, starting with a letter or digit. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
const ID_RULE = "use 1 to 128 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit";

/** Task ids and DAG names: they end up in stream names, URLs and file names, so keep them tame. */
export function checkId(what: 'task id' | 'DAG name') {
  return (value: unknown): CheckResult<string> => {
    if (typeof value !== 'string') return expectedText(value, `a ${what}`);
    if (ID_PATTERN.test(value)) return pass(value);
    const fixed = value
      .toLowerCase()
      .replace(/[^a-z0-9_.-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 128);
    const hint = ID_PATTERN.test(fixed) ? ` (e.g. '${fixed}')` : '';
    return fail('invalid_id', `${quote(value)} is not a valid ${what}; ${ID_RULE}${hint}`);
  };
}

/** A duration in whole milliseconds, at most {@link MAX_DURATION_MS}, and positive unless `allowZero`. */
export function checkDuration(allowZero: boolean) {
  return (value: unknown): CheckResult<number> => {
    const result = tryParseDuration(value);
    if (!result.ok) return fail('invalid_duration', result.message);
    if (!allowZero && result.ms === 0) return fail('invalid_value', 'must be longer than 0');
    if (result.ms > MAX_DURATION_MS) {
      return fail(
        'invalid_value',
        `${formatDuration(result.ms)} is too long; the most is ${formatDuration(MAX_DURATION_MS)}`,
      );
    }
    return pass(result.ms);
  };
}

/** `full` (1), `none` (0) or a number from 0 to 1: the randomized share of each retry delay. */
export function checkJitter(value: unknown): CheckResult<number> {
  if (value === 'full') return pass(1);
  if (value === 'none') return pass(0);
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1) return pass(value);
  return fail(
    'invalid_value',
    `expected 'full', 'none' or a number from 0 to 1, got ${describeValue(value)}`,
  );
}

/** A method name in any case, returned upper-cased. */
export function checkMethod(value: unknown): CheckResult<HttpMethod> {
  if (typeof value !== 'string') return expectedText(value, 'an HTTP method');
  const upper = value.toUpperCase() as HttpMethod;
  if (HTTP_METHODS.includes(upper)) return pass(upper);
  const suggestion = closestMatch(upper, HTTP_METHODS);
  return fail(
    'invalid_value',
    `${quote(value)} is not an HTTP method; use one of ${HTTP_METHODS.join(', ')}${didYouMean(suggestion)}`,
  );
}

const PLACEHOLDER = /\{\{[^{}]*\}\}/g;

/**
 * An absolute http(s) URL. `{{ … }}` placeholders are allowed anywhere; each is checked as if
 * it were `0` (a valid host label, port and path segment). A URL that *starts* with a
 * placeholder gets its scheme and host from a parameter and can only be checked at run time.
 */
export function checkUrl(value: unknown): CheckResult<string> {
  if (typeof value !== 'string') return expectedText(value, 'a URL');
  const url = value.trim();
  if (url === '') return fail('invalid_url', 'the URL is empty');
  const probe = url.replace(PLACEHOLDER, '0');
  if (probe.includes('{{') || probe.includes('}}')) {
    return fail(
      'invalid_url',
      `${quote(url)} has an unbalanced '{{' or '}}'; placeholders look like {{ params.name }}`,
    );
  }
  if (url.startsWith('{{')) return pass(url);
  let parsed: URL;
  try {
    parsed = new URL(probe);
  } catch {
    return fail(
      'invalid_url',
      `${quote(url)} is not a valid URL; write it in full, e.g. https://example.com/path`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return fail(
      'invalid_url',
      `${quote(url)} must use http or https, not ${parsed.protocol.replace(/:$/, '')}`,
    );
  }
  return pass(url);
}

/** A status (`404`), a class (`2xx`) or a list of them; returned as sorted, merged ranges. */
export function checkExpectedStatus(value: unknown): CheckResult<StatusRange[]> {
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0) return fail('invalid_value', 'the list of expected statuses is empty');
  const ranges: StatusRange[] = [];
  for (const entry of entries) {
    if (typeof entry === 'number' && Number.isInteger(entry) && entry >= 100 && entry <= 599) {
      ranges.push({ min: entry, max: entry });
    } else if (typeof entry === 'string' && /^[1-5]xx$/i.test(entry)) {
      const base = Number(entry[0]) * 100;
      ranges.push({ min: base, max: base + 99 });
    } else {
      return fail(
        'invalid_value',
        `${describeValue(entry)} is not an HTTP status; use a number from 100 to 599 or a class such as 2xx`,
      );
    }
  }
  ranges.sort((a, b) => a.min - b.min);
  const merged: StatusRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.min <= last.max + 1)
      merged[merged.length - 1] = { min: last.min, max: Math.max(last.max, range.max) };
    else merged.push(range);
  }
  return pass(merged);
}

/** An HTTP body as written: text, or a mapping or list sent as JSON. */
export type JsonBody = string | unknown[] | Record<string, unknown>;

/**
 * A request body: text, or a mapping or list that JSON can represent (the YAML core schema can
 * produce `.inf` and `.nan`, which it cannot). Walked iteratively; the value is kept as is.
 */
export function checkBody(value: unknown): CheckResult<JsonBody> {
  if (typeof value === 'string') return pass(value);
  if (value === null || typeof value !== 'object') {
    return fail('invalid_type', `expected text, a mapping or a list, got ${describeValue(value)}`);
  }
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'number' && !Number.isFinite(item)) {
      return fail('invalid_value', `contains ${item}, which JSON cannot represent`);
    }
    if (Array.isArray(item)) for (const child of item) pending.push(child);
    else if (item !== null && typeof item === 'object')
      for (const child of Object.values(item)) pending.push(child);
  }
  return pass(value as JsonBody);
}

/** A shell command line, or an argv list whose first entry names the program. */
export function checkCommand(value: unknown): CheckResult<string | string[]> {
  if (typeof value === 'string') {
    return value.trim() === '' ? fail('invalid_value', 'the command is empty') : pass(value);
  }
  if (!Array.isArray(value)) return expectedText(value, 'a command line or a list of arguments');
  if (value.length === 0)
    return fail('invalid_value', 'the argument list is empty; its first entry is the program');
  const bad = value.findIndex((entry) => typeof entry !== 'string');
  if (bad >= 0)
    return fail('invalid_type', `argument ${bad + 1} must be text, got ${describeValue(value[bad])}`);
  if ((value[0] as string).trim() === '')
    return fail('invalid_value', 'the first argument (the program) is empty');
  return pass(value as string[]);
}

/** A param default: text, a finite number or a boolean. */
export function checkScalar(value: unknown): CheckResult<string | number | boolean> {
  if (typeof value === 'string' || typeof value === 'boolean') return pass(value);
  if (typeof value === 'number' && Number.isFinite(value)) return pass(value);
  return fail('invalid_type', `expected text, a number or true/false, got ${describeValue(value)}`);
}

/** A key for a user-named map (`__proto__` is refused by the schema: zod never shows it to us). */
export function checkKey(what: string, pattern: RegExp, rule: string) {
  return (value: unknown): CheckResult<string> => {
    if (typeof value !== 'string') return expectedText(value);
    if (!pattern.test(value)) return fail('invalid_value', `${quote(value)} is not a valid ${what}; ${rule}`);
    return pass(value);
  };
}

/** Environment variable names, as POSIX shells accept them. */
export const checkEnvName = checkKey(
  'environment variable name',
  /^[A-Za-z_][A-Za-z0-9_]*$/,
  "use letters, digits and '_', not starting with a digit",
);
/** Param names: usable as `{{ params.name }}` in templates. */
export const checkParamName = checkKey(
  'param name',
  /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
  "use up to 64 letters, digits and '_', not starting with a digit",
);
/** HTTP header names: RFC 9110 tokens. */
export const checkHeaderName = checkKey(
  'HTTP header name',
  /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
  "use letters, digits and '-' (no spaces or ':')",
);
