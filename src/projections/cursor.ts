/**
 * Opaque keyset-pagination cursors: base64url of a small JSON array naming the list it belongs to
 * and the sort key of the last row a page returned. The next page starts strictly after that key,
 * so rows inserted meanwhile never shift a page (as OFFSET would) and each row is returned once.
 *
 * Timestamps travel as whole microseconds since the epoch (a decimal string), the precision
 * Postgres stores, so a cursor compares exactly with the row it came from.
 */
import { ValidationError } from '../errors.js';

/** Which list a cursor pages through; a cursor from one list is refused by another. */
export type CursorKind = 'dags' | 'runs' | 'dlq';

/** A sort key: strings only (ids, and microsecond timestamps as decimal strings). */
export type CursorKey = readonly string[];

/** Encodes the sort key of the last row of a page. */
export function encodeCursor(kind: CursorKind, key: CursorKey): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

/**
 * The sort key inside `cursor`, which must come from `kind`'s list and hold `length` strings.
 * Throws `ValidationError` (400) for anything else: a cursor is only ever one we handed out.
 */
export function decodeCursor(kind: CursorKind, cursor: string, length: number): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== length + 1 ||
    parsed[0] !== kind ||
    !parsed.every((part) => typeof part === 'string')
  ) {
    throw new ValidationError(`invalid ${kind} cursor`, [
      { path: 'cursor', kind: 'invalid_cursor', message: `not a cursor returned by the ${kind} list` },
    ]);
  }
  return parsed.slice(1) as string[];
}

/** A microsecond timestamp of a cursor, checked to be an integer. */
export function cursorMicros(value: string): string {
  if (!/^-?\d{1,19}$/.test(value)) {
    throw new ValidationError('invalid cursor', [
      { path: 'cursor', kind: 'invalid_cursor', message: 'the cursor holds a malformed timestamp' },
    ]);
  }
  return value;
}
