/**
 * Durations as people write them in a DAG (`30s`, `5m`, `1h30m`, `250ms`) or as a number of
 * milliseconds, always resolved to whole milliseconds.
 */
import { ValidationError } from '../errors.js';
import { quote } from './issues.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Largest first: a duration lists its units in this order, each at most once. */
const UNIT_ORDER: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

// `ms` must be tried before `m` and `s`; the sticky flag walks the string one component at a time.
const COMPONENT = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/.source;
const HINT = 'use e.g. 30s, 5m, 1h30m or 250ms';

/** The outcome of {@link tryParseDuration}: milliseconds, or a message saying what to write. */
export type DurationResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly message: string };

/**
 * Parses a duration without throwing. Accepted: a non-negative whole number of milliseconds, or
 * a string of one or more `<number><unit>` parts with units `d`, `h`, `m`, `s`, `ms` from
 * largest to smallest (`1h30m`, `1.5s`), whose total is a whole number of milliseconds.
 */
export function tryParseDuration(input: unknown): DurationResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || !Number.isInteger(input)) {
      return { ok: false, message: `${input} is not a whole number of milliseconds; ${HINT}` };
    }
    if (input < 0) return { ok: false, message: `${input} is negative; a duration must be 0 or more` };
    if (input > Number.MAX_SAFE_INTEGER) return { ok: false, message: `${input} is too long a duration` };
    return { ok: true, ms: input };
  }
  if (typeof input !== 'string') {
    return { ok: false, message: `expected a duration (e.g. 30s, 5m, 1h), not ${describeKind(input)}` };
  }
  const text = input.trim();
  if (text === '') return { ok: false, message: `the duration is empty; ${HINT}` };
  if (/^\d+(\.\d+)?$/.test(text)) {
    return { ok: false, message: `${quote(input)} has no unit; write e.g. ${text}s or ${text}ms` };
  }
  let total = 0;
  let lastUnitRank = -1;
  const component = new RegExp(COMPONENT, 'y');
  while (component.lastIndex < text.length) {
    const start = component.lastIndex;
    const match = component.exec(text);
    if (match === null) {
      const hint = /[A-Z]/.test(text.slice(start)) ? 'units are lowercase: d, h, m, s, ms' : HINT;
      return { ok: false, message: `${quote(input)} is not a duration; ${hint}` };
    }
    const unit = match[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastUnitRank) {
      return {
        ok: false,
        message: `${quote(input)} is not a duration; list each unit once, largest first (e.g. 1h30m)`,
      };
    }
    lastUnitRank = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  // Decimal parts can leave floating-point dust (0.1s → 100.00000000000001); round it away,
  // but still refuse fractions of a millisecond the user actually wrote.
  const rounded = Math.round(total * 1000) / 1000;
  if (!Number.isInteger(rounded)) {
    return { ok: false, message: `${quote(input)} is not a whole number of milliseconds` };
  }
  if (rounded > Number.MAX_SAFE_INTEGER)
    return { ok: false, message: `${quote(input)} is too long a duration` };
  return { ok: true, ms: rounded };
}

function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/**
 * Parses `30s`, `5m`, `1h30m`, `250ms`, `1d` or a number of milliseconds into milliseconds.
 * @throws ValidationError (kind `invalid_duration`) with a message that says what to write.
 */
export function parseDuration(input: string | number): number {
  const result = tryParseDuration(input);
  if (result.ok) return result.ms;
  throw new ValidationError(result.message, [
    { path: '', kind: 'invalid_duration', message: result.message },
  ]);
}

/** The shortest unit string for a number of milliseconds: 5400000 → `1h30m`, 0 → `0ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0ms';
  let rest = ms;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
