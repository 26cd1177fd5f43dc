import { describe, expect, it } from 'vitest';
import { findPrincipal, hasScope } from '../../../src/api/auth.js';
import { assertSafeAuth, isLoopback } from '../../../src/api/server.js';
import { ConfigError } from '../../../src/errors.js';

const tokens = [
  { name: 'ann', token: 'ann-token-0123456789', scopes: ['read' as const] },
  { name: 'ops', token: 'ops-token-0123456789', scopes: ['admin' as const] },
];

describe('bearer tokens', () => {
  it('finds the principal of a known token, and none for a near miss or a prefix', () => {
    expect(findPrincipal(tokens, 'ops-token-0123456789')).toEqual({ name: 'ops', scopes: ['admin'] });
    expect(findPrincipal(tokens, 'ops-token-012345678')).toBeUndefined();
    expect(findPrincipal(tokens, 'ops-token-01234567890')).toBeUndefined();
    expect(findPrincipal(tokens, '')).toBeUndefined();
  });

  it('nests scopes: admin ⊇ write ⊇ read', () => {
    expect(hasScope({ name: 'a', scopes: ['admin'] }, 'read')).toBe(true);
    expect(hasScope({ name: 'a', scopes: ['write'] }, 'read')).toBe(true);
    expect(hasScope({ name: 'a', scopes: ['write'] }, 'admin')).toBe(false);
    expect(hasScope({ name: 'a', scopes: ['read'] }, 'write')).toBe(false);
  });

  it('refuses to serve without tokens on a non-loopback host', () => {
    expect(() => assertSafeAuth({ host: '127.0.0.1', tokens: [] })).not.toThrow();
    expect(() => assertSafeAuth({ host: '0.0.0.0', tokens })).not.toThrow();
    expect(() => assertSafeAuth({ host: '0.0.0.0', tokens: [] })).toThrow(ConfigError);
    expect([
      isLoopback('::1'),
      isLoopback('localhost'),
      isLoopback('127.0.0.2'),
      isLoopback('10.0.0.1'),
    ]).toEqual([true, true, true, false]);
  });
});
