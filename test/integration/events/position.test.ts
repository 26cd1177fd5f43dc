/** Global positions: the string order is the numeric order, and bad input fails loudly. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import {
  comparePositions,
  decodePosition,
  encodePosition,
  isGlobalPosition,
  maxPosition,
  parsePosition,
  START_POSITION,
} from '../../../src/events/position.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const numeric = (a: [bigint, bigint], b: [bigint, bigint]) =>
  a[0] !== b[0] ? Math.sign(Number(a[0] - b[0])) : Math.sign(Number(a[1] - b[1]));

describe('positions', () => {
  it('encodes fixed-width lowercase hex and decodes back', () => {
    expect(encodePosition(10n, 255n)).toBe('000000000000000a-00000000000000ff');
    expect(encodePosition('4294967296', '1')).toBe('0000000100000000-0000000000000001');
    expect(decodePosition('0000000100000000-0000000000000001')).toEqual({ major: 4294967296n, minor: 1n });
    expect(START_POSITION).toBe(encodePosition(0n, 0n));
    fc.assert(
      fc.property(u64, u64, (major, minor) => {
        expect(decodePosition(encodePosition(major, minor))).toEqual({ major, minor });
      }),
    );
  });

  it('orders strings exactly as (major, minor) pairs', () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, (a0, a1, b0, b1) => {
        const [a, b] = [encodePosition(a0, a1), encodePosition(b0, b1)];
        expect(comparePositions(a, b)).toBe(numeric([a0, a1], [b0, b1]));
        expect(a < b).toBe(numeric([a0, a1], [b0, b1]) < 0);
        expect(maxPosition(a, b)).toBe(numeric([a0, a1], [b0, b1]) >= 0 ? a : b);
      }),
    );
  });

  it('rejects malformed positions with a ValidationError that names the format', () => {
    for (const bad of [
      '',
      '1-2',
      '000000000000000A-0000000000000000',
      '0000000000000000_0000000000000000',
      42,
      null,
    ]) {
      expect(isGlobalPosition(bad)).toBe(false);
      expect(() => parsePosition(bad, 'checkpoint')).toThrow(ValidationError);
    }
    const error = (() => {
      try {
        parsePosition('nonsense', 'checkpoint');
      } catch (caught) {
        return caught as ValidationError;
      }
    })();
    expect(error?.issues).toEqual([
      expect.objectContaining({ path: 'checkpoint', kind: 'invalid_position' }),
    ]);
    expect(error?.message).toContain('"nonsense"');
    expect(() => encodePosition(-1n, 0n)).toThrow(RangeError);
    expect(() => encodePosition(1n << 64n, 0n)).toThrow(RangeError);
  });
});
