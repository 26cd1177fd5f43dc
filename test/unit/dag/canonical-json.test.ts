import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/dag/index.js';

describe('canonicalJson', () => {
  it('given objects with keys in different orders, then the text is the same, keys sorted at every level', () => {
    const a = { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } };
    const b = { a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('given keys that sort differently by locale, then code-unit order is used', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, e: 4 })).toBe('{"B":2,"b":1,"e":4,"é":3}');
  });

  it('given values JSON cannot hold, then they are treated as JSON.stringify treats them', () => {
    expect(canonicalJson({ a: undefined, b: Number.NaN, c: [undefined, () => 1] })).toBe(
      '{"b":null,"c":[null,null]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('given a __proto__ own key (as JSON.parse makes), then it is written like any other key', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":2}'))).toBe('{"__proto__":{"x":1},"a":2}');
  });

  it('given a circular value or a bigint, then it throws', () => {
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(() => canonicalJson(loop)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('given a value reused in two places (not a cycle), then it is written twice', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('property: the text parses back to an equal value and ignores key insertion order', () => {
    const reverseKeys = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverseKeys);
      if (v === null || typeof v !== 'object') return v;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).reverse()) {
        Object.defineProperty(out, key, {
          value: reverseKeys((v as Record<string, unknown>)[key]),
          enumerable: true,
        });
      }
      return out;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reverseKeys(value))).toBe(text);
      }),
    );
  });
});
