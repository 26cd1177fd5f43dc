import { describe, expect, it } from 'vitest';
import { runIdForIdempotencyKey, uuidv7 } from '../../../src/commands/ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('ids', () => {
  it('makes time-ordered UUIDv7s', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(UUID);
    expect(a[14]).toBe('7');
    expect(a < b).toBe(true);
    expect(a.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
  });

  it('derives the same run id from the same DAG and key, and another from another', () => {
    const id = runIdForIdempotencyKey('etl', 'k1');
    expect(id).toMatch(UUID);
    expect(id[14]).toBe('8');
    expect(runIdForIdempotencyKey('etl', 'k1')).toBe(id);
    expect(runIdForIdempotencyKey('etl', 'k2')).not.toBe(id);
    expect(runIdForIdempotencyKey('etl2', 'k1')).not.toBe(id);
    // The separator keeps ("a", "bc") and ("ab", "c") apart.
    expect(runIdForIdempotencyKey('a', 'bc')).not.toBe(runIdForIdempotencyKey('ab', 'c'));
  });
});
