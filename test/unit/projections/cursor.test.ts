/** Opaque pagination cursors: they round-trip, and anything we did not hand out is refused. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { cursorMicros, decodeCursor, encodeCursor } from '../../../src/projections/cursor.js';

describe('pagination cursors', () => {
  it('round-trip the sort key and look opaque', () => {
    const cursor = encodeCursor('runs', ['1714521600123456', 'run:1']);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('runs', cursor, 2)).toEqual(['1714521600123456', 'run:1']);
  });

  it('refuses a cursor of another list, of another shape, or no cursor at all', () => {
    const dags = encodeCursor('dags', ['alpha']);
    for (const [kind, cursor, length] of [
      ['runs', dags, 1],
      ['dags', dags, 2],
      ['dags', 'bm90IGpzb24', 1],
      ['dags', Buffer.from('["dags", 1]').toString('base64url'), 1],
      ['dags', '', 1],
    ] as const) {
      expect(() => decodeCursor(kind, cursor, length)).toThrow(ValidationError);
    }
  });

  it('accepts only integer microsecond timestamps', () => {
    expect(cursorMicros('1714521600123456')).toBe('1714521600123456');
    expect(() => cursorMicros('1.5')).toThrow(ValidationError);
    expect(() => cursorMicros("0'; DROP TABLE runs; --")).toThrow(ValidationError);
  });
});
