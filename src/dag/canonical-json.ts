/**
 * A canonical JSON text: the same value always gives the same string, whatever order its keys
 * were inserted in. Hash it (outside this pure folder) to tell whether a spec changed.
 */

/**
 * `JSON.stringify` with object keys sorted by UTF-16 code unit (locale-independent), no
 * whitespace, and the same treatment of odd values: `undefined` and functions are left out of
 * objects and become `null` in arrays, non-finite numbers become `null`.
 * @throws TypeError on a bigint or a circular structure, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set()) ?? 'null';
}

function write(value: unknown, ancestors: Set<object>): string | undefined {
  if (value === null) return 'null';
  const type = typeof value;
  switch (type) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value as number) ? JSON.stringify(value) : 'null';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new TypeError('canonicalJson: a bigint cannot be written as JSON');
    case 'object': {
      if (ancestors.has(value as object)) throw new TypeError('canonicalJson: the value is circular');
      ancestors.add(value as object);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((item) => write(item, ancestors) ?? 'null').join(',')}]`;
      } else {
        const record = value as Record<string, unknown>;
        const parts: string[] = [];
        for (const key of Object.keys(record).sort(compareCodeUnits)) {
          const text = write(record[key], ancestors);
          if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
        }
        out = `{${parts.join(',')}}`;
      }
      ancestors.delete(value as object);
      return out;
    }
    default: {
      const unexpected: never = type;
      throw new TypeError(`canonicalJson: unexpected ${String(unexpected)}`);
    }
  }
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
