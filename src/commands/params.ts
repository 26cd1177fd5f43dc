/**
 * Run parameters: what the caller gave, checked against what the DAG declares. Values from the
 * command line arrive as strings and are coerced to the declared type; JSON values must already
 * have it. Every problem is reported at once.
 */
import { canonicalJson, type NormalizedDag } from '../dag/index.js';
import { closestMatch } from '../dag/suggest.js';
import { ValidationError, type ValidationIssue } from '../errors.js';

export type ParamValue = string | number | boolean;

type DeclaredParams = NormalizedDag['params'];

export function resolveParams(
  declared: DeclaredParams,
  provided: Readonly<Record<string, unknown>>,
): Record<string, ParamValue> {
  const issues: ValidationIssue[] = [];
  const resolved: Record<string, ParamValue> = {};
  const names = Object.keys(declared);
  for (const name of Object.keys(provided)) {
    if (!(name in declared)) {
      const suggestion = closestMatch(name, names);
      issues.push({
        path: `params.${name}`,
        kind: 'unknown_param',
        message:
          names.length === 0
            ? `unknown param '${name}': this DAG declares no params`
            : `unknown param '${name}'${suggestion ? `; did you mean '${suggestion}'?` : ''} (declared: ${names.join(', ')})`,
      });
    }
  }
  for (const [name, spec] of Object.entries(declared)) {
    const raw = provided[name];
    if (raw === undefined || raw === null) {
      if (spec.default !== null) resolved[name] = spec.default;
      else if (spec.required) {
        issues.push({
          path: `params.${name}`,
          kind: 'missing_param',
          message: `param '${name}' is required`,
        });
      }
      continue;
    }
    const value = coerce(raw, spec.type);
    if (value === undefined) {
      issues.push({
        path: `params.${name}`,
        kind: 'invalid_param',
        message: `param '${name}' must be a ${spec.type}, got ${JSON.stringify(raw)}`,
      });
    } else {
      resolved[name] = value;
    }
  }
  if (issues.length > 0) throw new ValidationError('invalid run params', issues);
  return resolved;
}

function coerce(raw: unknown, type: 'string' | 'number' | 'boolean'): ParamValue | undefined {
  switch (type) {
    case 'string':
      return typeof raw === 'string'
        ? raw
        : typeof raw === 'number' || typeof raw === 'boolean'
          ? String(raw)
          : undefined;
    case 'number': {
      if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
      if (typeof raw !== 'string' || raw.trim() === '') return undefined;
      const n = Number(raw);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return undefined;
    default:
      return undefined;
  }
}

/** Two param sets are the same run request when their canonical JSON is equal. */
export function sameParams(
  a: Readonly<Record<string, ParamValue>>,
  b: Readonly<Record<string, ParamValue>>,
): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
