import { describe, expect, it } from 'vitest';
import { ClaimAhead } from '../../../src/workers/claim-ahead.js';

describe('ClaimAhead', () => {
  const now = 10_000;

  it('claims nothing ahead before it has seen an attempt finish', () => {
    expect(new ClaimAhead({ depth: 4 }).allowance([], now)).toBe(0);
  });

  it('claims its depth ahead while attempts are short and none running has run long', () => {
    const ahead = new ClaimAhead({ depth: 4, shortTaskMs: 50 });
    ahead.executed(2);
    expect(ahead.allowance([], now)).toBe(4);
    expect(ahead.allowance([now - 10, now - 49], now)).toBe(4);
  });

  it('stops claiming ahead while an attempt has been running for a short task’s time', () => {
    const ahead = new ClaimAhead({ depth: 4, shortTaskMs: 50 });
    ahead.executed(2);
    expect(ahead.allowance([now - 1, now - 50], now)).toBe(0);
  });

  it('stops claiming ahead once recent attempts are long on average, and resumes when short again', () => {
    const ahead = new ClaimAhead({ depth: 4, shortTaskMs: 50 });
    ahead.executed(1);
    ahead.executed(2_000);
    expect(ahead.allowance([], now)).toBe(0);
    for (let i = 0; i < 40; i++) ahead.executed(1);
    expect(ahead.allowance([], now)).toBe(4);
  });

  it('is off at depth 0', () => {
    const ahead = new ClaimAhead({ depth: 0 });
    ahead.executed(1);
    expect(ahead.enabled).toBe(false);
    expect(ahead.allowance([], now)).toBe(0);
  });
});
