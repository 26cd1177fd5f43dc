/**
 * Maps a path in the data (`tasks[1].retry.maxAttempts`) back to a line and column in the YAML
 * text, so that problems found on plain data still point at the text the user wrote.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import type { PathSegment, Position, SourceLocator } from './issues.js';

/** The key under which `toJS` stores a scalar key: `String(value)`, and `''` for null. */
export function jsKeyOf(key: unknown): string | undefined {
  if (key === null || key === undefined) return '';
  if (!isScalar(key)) return undefined;
  return key.value === null ? '' : String(key.value);
}

/** A locator over one parsed document (or only over the text, before a document exists). */
export function createYamlLocator(
  document: Document.Parsed | undefined,
  lineCounter: LineCounter,
): SourceLocator {
  // Mappings are indexed lazily, once each: locating thousands of issues in a mapping with
  // thousands of keys must not scan the keys each time.
  const indexes = new WeakMap<object, Map<string, Pair>>();
  const indexOf = (map: { items: Pair[] }): Map<string, Pair> => {
    let index = indexes.get(map);
    if (index === undefined) {
      index = new Map();
      for (const pair of map.items) {
        const key = jsKeyOf(pair.key);
        if (key !== undefined && !index.has(key)) index.set(key, pair);
      }
      indexes.set(map, index);
    }
    return index;
  };

  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };

  const locate = (path: readonly PathSegment[], at: 'key' | 'value'): Position | undefined => {
    if (document === undefined) return undefined;
    let node: Node | null | undefined = document.contents;
    if (node === null) return position(document.range[0]);
    for (let i = 0; i < path.length; i++) {
      // Follow an alias only to look inside it; a path that ends on one points at the alias.
      const container: Node | null | undefined = isAlias(node) ? node.resolve(document) : node;
      const segment = path[i]!;
      let next: Node | null | undefined;
      if (isMap(container)) {
        const pair = indexOf(container).get(String(segment));
        if (pair === undefined) break;
        const key = pair.key as Node | null;
        const value = pair.value as Node | null;
        next = i === path.length - 1 && at === 'key' ? key : (value ?? key);
        // `timeout:` with nothing after it has an empty value node at the key's end; the key
        // is the better place to point at.
        if (next !== null && isScalar(next) && next.value === null && next.source === '' && key !== null)
          next = key;
      } else if (isSeq(container) && typeof segment === 'number') {
        next = container.items[segment] as Node | null | undefined;
      }
      if (next === null || next === undefined) break;
      node = next;
    }
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : position(offset);
  };

  return { locate, position };
}
