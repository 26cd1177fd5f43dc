/**
 * Bearer tokens with scopes (DAGRUN_API_TOKENS: `name:token:scope[+scope],…`). Scopes nest:
 * admin ⊇ write ⊇ read. Tokens are compared as sha256 digests with `timingSafeEqual`, against
 * every configured token (no early exit), so the time taken says nothing about how close a guess
 * was.
 *
 * `authenticate` runs before any body is parsed: a request without a valid token is refused with
 * 401 before it can reach a handler. Scopes are checked per route by tsoa's `@Security`, which
 * calls `expressAuthentication` (this module is tsoa's `authenticationModule`).
 *
 * With no tokens configured every request is anonymous with every scope; `startApiServer` only
 * allows that on a loopback host.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApiScope, ApiTokenConfig } from '../config/index.js';
import { ApiError } from './api-error.js';
import { depsOf, localsOf } from './context.js';

export interface Principal {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
}

const ANONYMOUS: Principal = { name: 'anonymous', scopes: ['read', 'write', 'admin'] };
const RANK: Record<ApiScope, number> = { read: 1, write: 2, admin: 3 };

interface HashedToken {
  readonly principal: Principal;
  readonly digest: Buffer;
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();
const hashedTables = new WeakMap<readonly ApiTokenConfig[], HashedToken[]>();

function hashed(tokens: readonly ApiTokenConfig[]): HashedToken[] {
  let table = hashedTables.get(tokens);
  if (!table) {
    table = tokens.map((t) => ({ principal: { name: t.name, scopes: t.scopes }, digest: digest(t.token) }));
    hashedTables.set(tokens, table);
  }
  return table;
}

/** The principal a bearer token belongs to, or undefined. Constant time in the token's content. */
export function findPrincipal(tokens: readonly ApiTokenConfig[], presented: string): Principal | undefined {
  const candidate = digest(presented);
  let found: Principal | undefined;
  for (const entry of hashed(tokens)) {
    if (timingSafeEqual(entry.digest, candidate) && found === undefined) found = entry.principal;
  }
  return found;
}

export function hasScope(principal: Principal, needed: ApiScope): boolean {
  return principal.scopes.some((s) => RANK[s] >= RANK[needed]);
}

const unauthorized = (message: string) =>
  new ApiError(401, 'unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="dagrun"' } });

/** Identifies the caller from `Authorization: Bearer …`; refuses protected paths without one. */
export function authenticate(req: Request, res: Response, next: NextFunction): void {
  const deps = depsOf(req);
  const tokens = deps.config.tokens;
  const locals = localsOf(res);
  if (tokens.length === 0) {
    locals.principal = ANONYMOUS;
    next();
    return;
  }
  const header = req.get('authorization');
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  locals.principal = match?.[1] ? findPrincipal(tokens, match[1]) : undefined;
  if (locals.principal) {
    next();
    return;
  }
  if (!isProtected(req.path, deps.config.openHealth)) {
    next();
    return;
  }
  next(unauthorized(header ? 'the bearer token is not valid' : 'a bearer token is required'));
}

function isProtected(path: string, openHealth: boolean): boolean {
  if (path === '/api' || path.startsWith('/api/')) return true;
  if (path === '/metrics' || path === '/health' || path.startsWith('/health/')) return !openHealth;
  return false; // /openapi.json and /docs describe the API; they change nothing
}

/** tsoa's hook for `@Security('bearer', [scope])`. */
export async function expressAuthentication(
  request: Request,
  securityName: string,
  scopes: string[] = [],
): Promise<Principal> {
  if (securityName !== 'bearer') throw new Error(`unknown security scheme ${securityName}`);
  const principal = request.res ? localsOf(request.res).principal : undefined;
  if (!principal) throw unauthorized('a bearer token is required');
  for (const scope of scopes) {
    if (!hasScope(principal, scope as ApiScope)) {
      throw new ApiError(403, 'forbidden', `this operation needs the ${scope} scope`, {
        details: { needed: scope, granted: principal.scopes },
      });
    }
  }
  return principal;
}
