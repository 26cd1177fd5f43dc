/**
 * Global positions as strings whose lexicographic order is the store's total order.
 *
 * A position is a pair of unsigned 64-bit integers (major, minor), each written as 16 lowercase
 * hex digits and joined by `-`: `000000000000a3f1-0000000000001234`. Fixed width and one case
 * make plain string comparison agree with numeric comparison, so a checkpoint can be stored in
 * a text column and compared anywhere (SQL `ORDER BY`, `<` in JS) without parsing.
 *
 * The Postgres adapter uses (transaction id, sequence); EventStoreDB's (commit, prepare) pair
 * fits the same shape.
 */
import { ValidationError } from '../errors.js';
import type { GlobalPosition } from './types.js';

const MAX_U64 = (1n << 64n) - 1n;
const POSITION_PATTERN = /^[0-9a-f]{16}-[0-9a-f]{16}$/;

/** The two numbers a position encodes. */
export interface PositionParts {
  /** Postgres: the writing transaction's id (xid8). */
  readonly major: bigint;
  /** Postgres: the event's sequence number within the table. */
  readonly minor: bigint;
}

/** Sorts before every real position: "nothing read yet". */
export const START_POSITION = '0000000000000000-0000000000000000' as GlobalPosition;

/** Encodes two unsigned 64-bit integers (bigint or decimal string) as a position. */
export function encodePosition(major: bigint | string, minor: bigint | string): GlobalPosition {
  return `${hex64(BigInt(major))}-${hex64(BigInt(minor))}` as GlobalPosition;
}

/** The numbers inside a position; throws `ValidationError` on a malformed one. */
export function decodePosition(position: string): PositionParts {
  const valid = parsePosition(position);
  return { major: BigInt(`0x${valid.slice(0, 16)}`), minor: BigInt(`0x${valid.slice(17)}`) };
}

/** True when `value` is a well-formed position. */
export function isGlobalPosition(value: unknown): value is GlobalPosition {
  return typeof value === 'string' && POSITION_PATTERN.test(value);
}

/**
 * Checks a position that came from outside (a stored checkpoint, a query parameter) and returns
 * it typed. Throws `ValidationError` naming the expected format, so a corrupt checkpoint fails
 * loudly instead of silently re-reading from the start.
 */
export function parsePosition(value: unknown, path = 'position'): GlobalPosition {
  if (isGlobalPosition(value)) return value;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
  throw new ValidationError(`invalid global position ${shown}`, [
    {
      path,
      kind: 'invalid_position',
      message: 'expected 16 lowercase hex digits, "-", 16 lowercase hex digits (as returned by the store)',
    },
  ]);
}

/**
 * The commit a position belongs to: its major part, as 16 hex digits. Events appended in one
 * commit (Postgres: one transaction) share it, and commits sort in the order of their ids.
 */
export function commitOf(position: GlobalPosition): string {
  return position.slice(0, 16);
}

/** Negative when `a` comes first, 0 when equal, positive when `b` comes first. */
export function comparePositions(a: GlobalPosition, b: GlobalPosition): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later of two positions. */
export function maxPosition(a: GlobalPosition, b: GlobalPosition): GlobalPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

function hex64(value: bigint): string {
  if (value < 0n || value > MAX_U64) throw new RangeError(`position part out of range: ${value}`);
  return value.toString(16).padStart(16, '0');
}
