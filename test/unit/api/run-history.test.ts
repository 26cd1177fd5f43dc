import { describe, expect, it } from 'vitest';
import { belongsToRun, parseAsOf } from '../../../src/api/run-history.js';
import { ValidationError } from '../../../src/errors.js';

describe('asOf', () => {
  it('reads a global position or an ISO-8601 instant', () => {
    expect(parseAsOf('00000000000003e8-0000000000000011')).toEqual({
      kind: 'position',
      position: '00000000000003e8-0000000000000011',
    });
    expect(parseAsOf('2025-01-31T12:00:00.5+01:00')).toEqual({
      kind: 'time',
      at: new Date('2025-01-31T11:00:00.500Z'),
    });
  });

  it('refuses anything else with the path asOf', () => {
    for (const bad of [
      'yesterday',
      '2025-01-31',
      '1700000000',
      '2025-13-01T00:00:00Z',
      '00000000000003E8-0000000000000011',
    ]) {
      expect(() => parseAsOf(bad), bad).toThrow(ValidationError);
    }
  });

  it('tells the run and its attempt streams from a run whose id starts the same', () => {
    const id = '0190f0e0-0000-7000-8000-000000000001';
    expect(belongsToRun(id, { streamName: `run-${id}` })).toBe(true);
    expect(belongsToRun(id, { streamName: `attempt-${id}-greet-1` })).toBe(true);
    expect(belongsToRun(id, { streamName: `run-${id}0` })).toBe(false);
  });
});
