import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, tryParseDuration } from '../../../src/dag/index.js';
import { ValidationError } from '../../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1d2h3m4s5ms', 93_784_005],
    ['1.5s', 1_500],
    ['0.1s', 100],
    ['0s', 0],
    [' 5m ', 300_000],
    [1500, 1500],
    [0, 0],
  ] as const)('given %j, then it is %i ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    ['5 minutes', "'5 minutes' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms"],
    ['5M', "'5M' is not a duration; units are lowercase: d, h, m, s, ms"],
    ['300', "'300' has no unit; write e.g. 300s or 300ms"],
    ['30m1h', "'30m1h' is not a duration; list each unit once, largest first (e.g. 1h30m)"],
    ['1m1m', "'1m1m' is not a duration; list each unit once, largest first (e.g. 1h30m)"],
    ['1h 30m', "'1h 30m' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms"],
    ['-5s', "'-5s' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms"],
    ['0.5ms', "'0.5ms' is not a whole number of milliseconds"],
    ['', 'the duration is empty; use e.g. 30s, 5m, 1h30m or 250ms'],
    [-1, '-1 is negative; a duration must be 0 or more'],
    [1.5, '1.5 is not a whole number of milliseconds; use e.g. 30s, 5m, 1h30m or 250ms'],
    [
      Number.POSITIVE_INFINITY,
      'Infinity is not a whole number of milliseconds; use e.g. 30s, 5m, 1h30m or 250ms',
    ],
    ['99999999999999d', "'99999999999999d' is too long a duration"],
  ] as const)('given %j, then it is refused with a message that says what to write', (input, message) => {
    expect(tryParseDuration(input)).toEqual({ ok: false, message });
    expect(() => parseDuration(input)).toThrow(ValidationError);
    expect(() => parseDuration(input)).toThrow(message);
  });

  it('given a non-string non-number, then it says what was expected', () => {
    expect(tryParseDuration([1])).toEqual({
      ok: false,
      message: 'expected a duration (e.g. 30s, 5m, 1h), not a list',
    });
    expect(tryParseDuration(null)).toEqual({
      ok: false,
      message: 'expected a duration (e.g. 30s, 5m, 1h), not an empty value',
    });
  });

  it('given the thrown error, then it carries one invalid_duration issue', () => {
    try {
      parseDuration('soon');
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues).toEqual([
        {
          path: '',
          kind: 'invalid_duration',
          message: "'soon' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms",
        },
      ]);
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [5_400_000, '1h30m'],
    [93_784_005, '1d2h3m4s5ms'],
  ])('given %i ms, then it is written %s, which parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
