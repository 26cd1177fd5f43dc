/**
 * Checks on the parsed YAML tree, made before it is turned into plain data. One iterative,
 * pre-order walk (depth is bounded already, but large files have hundreds of thousands of nodes).
 *
 * Aliases are allowed, because anchoring a shared block (`retry: *standard`) is ordinary YAML,
 * but kept harmless:
 * - at most `maxAliasCount` of them (default 100);
 * - an alias may not point at a node that itself contains an alias, which rules out both
 *   self-reference and the "billion laughs" chain of aliases of aliases;
 * - together they may not more than double the document (counted in nodes), so one alias of a
 *   huge anchor cannot multiply the work done downstream.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { type DraftIssue, describePath, type PathSegment, type Position } from './issues.js';
import { jsKeyOf } from './locate.js';

/** What {@link checkYamlTree} needs besides the document. */
export interface TreeCheckOptions {
  readonly maxAliasCount: number;
  /** Offsets of every explicit tag in the source, ascending (see yaml-safety.ts). */
  readonly tagOffsets: readonly number[];
  readonly position: (offset: number) => Position;
}

/** The last offset in `sorted` at or before `limit`, by binary search. */
function lastAtOrBefore(sorted: readonly number[], limit: number): number | undefined {
  let low = 0;
  let high = sorted.length - 1;
  let found: number | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (sorted[middle]! <= limit) {
      found = sorted[middle];
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** A node in the walk, linked to its parent so that a path is only built when it is needed. */
interface Visit {
  readonly node: Node;
  readonly parent: Visit | undefined;
  readonly segment: PathSegment | undefined;
  /** Pre-order index; with the counter at exit it gives the size of the subtree. */
  entry: number;
  size: number;
}

/** Enter a node, leave a collection (to measure its subtree), or reach an anchored mapping key. */
type Frame = { readonly enter: Visit } | { readonly exit: Visit } | { readonly key: Visit };

const CORE_TAG_PREFIX = 'tag:yaml.org,2002:';

/** Finds tags, bad or duplicate keys, merge keys and unsafe aliases; every one, in order. */
export function checkYamlTree(document: Document.Parsed, options: TreeCheckOptions): DraftIssue[] {
  const issues: DraftIssue[] = [];
  const root = document.contents;
  if (root === null) return issues;

  const anchors = new Map<string, Visit>();
  const aliases: { alias: Visit; target: Visit }[] = [];
  const containsAlias = new Set<Node>();
  let aliasCount = 0;
  let nodeCount = 0;

  const offsetOf = (node: Node): number => node.range?.[0] ?? 0;
  const pathOf = (visit: Visit | undefined): PathSegment[] => {
    const path: PathSegment[] = [];
    for (let v = visit; v?.segment !== undefined; v = v.parent) path.push(v.segment);
    return path.reverse();
  };
  const checkTag = (node: Node, visit: Visit): void => {
    if (node.tag === undefined) return;
    const shown = node.tag.startsWith(CORE_TAG_PREFIX)
      ? `!!${node.tag.slice(CORE_TAG_PREFIX.length)}`
      : node.tag;
    // A node's range starts after its tag, so the tag is the last one before that start.
    const offset = lastAtOrBefore(options.tagOffsets, offsetOf(node)) ?? offsetOf(node);
    issues.push({
      path: pathOf(visit),
      kind: 'yaml_tag',
      offset,
      message: `explicit YAML tags such as '${shown}' are not allowed; remove the tag (quote the value to keep it a string)`,
    });
  };

  const stack: Frame[] = [
    { enter: { node: root, parent: undefined, segment: undefined, entry: 0, size: 0 } },
  ];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if ('exit' in frame) {
      frame.exit.size = nodeCount - frame.exit.entry;
      continue;
    }
    if ('key' in frame) {
      // An anchor on a key is registered in document order, so that only the aliases after it
      // see it, exactly as the yaml library resolves them.
      anchors.set(frame.key.node.anchor!, frame.key);
      continue;
    }
    const visit = frame.enter;
    const { node } = visit;
    visit.entry = nodeCount++;
    // Only collections have subtrees to measure; a scalar or alias counts as one node.
    if (isMap(node) || isSeq(node)) stack.push({ exit: visit });
    else visit.size = 1;
    checkTag(node, visit);
    if (node.anchor) anchors.set(node.anchor, visit);

    if (isAlias(node)) {
      aliasCount++;
      if (aliasCount === options.maxAliasCount + 1) {
        issues.push({
          path: pathOf(visit),
          kind: 'yaml_alias_limit',
          offset: offsetOf(node),
          message:
            options.maxAliasCount === 0
              ? 'YAML aliases (*name) are not allowed here; write the value out'
              : `the file uses more than ${options.maxAliasCount} YAML aliases (*name); write the values out or use 'defaults'`,
        });
      }
      const target = anchors.get(node.source);
      if (target === undefined) {
        issues.push({
          path: pathOf(visit),
          kind: 'yaml_unknown_anchor',
          offset: offsetOf(node),
          message: `alias '*${node.source}' refers to no anchor; define '&${node.source}' before it`,
        });
      } else {
        aliases.push({ alias: visit, target });
      }
      // Every ancestor now contains an alias; stop at the first one already known to.
      for (let v = visit.parent; v !== undefined && !containsAlias.has(v.node); v = v.parent) {
        containsAlias.add(v.node);
      }
      continue;
    }

    if (isMap(node)) {
      const seen = new Map<string, number>();
      const children: Frame[] = [];
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (key !== null && !isScalar(key)) {
          issues.push({
            path: pathOf(visit),
            kind: 'yaml_complex_key',
            offset: offsetOf(key),
            message: `keys in ${describePath(pathOf(visit))} must be plain text, not ${isAlias(key) ? 'an alias' : 'a list or mapping'}`,
          });
          continue;
        }
        const name = jsKeyOf(key) ?? '';
        const keyOffset = key === null ? offsetOf(node) : offsetOf(key);
        const keyVisit: Visit = { node: key ?? node, parent: visit, segment: name, entry: 0, size: 0 };
        if (key !== null) {
          checkTag(key, keyVisit);
          // Anchored keys (rare) wait their turn, so that only later aliases can see them.
          if (key.anchor) children.push({ key: keyVisit });
        }
        if (name === '<<' && key !== null && isScalar(key) && key.type === 'PLAIN') {
          issues.push({
            path: pathOf(keyVisit),
            kind: 'yaml_merge_key',
            offset: keyOffset,
            message: `merge keys ('<<') are not supported; put shared task settings under 'defaults'`,
          });
          continue;
        }
        const first = seen.get(name);
        if (first !== undefined) {
          issues.push({
            path: pathOf(keyVisit),
            kind: 'yaml_duplicate_key',
            offset: keyOffset,
            message: `duplicate key '${name}' in ${describePath(pathOf(visit))}; it is first set on line ${options.position(first).line}`,
          });
          continue;
        }
        seen.set(name, keyOffset);
        const value = pair.value as Node | null;
        if (value !== null)
          children.push({ enter: { node: value, parent: visit, segment: name, entry: 0, size: 0 } });
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i] as Node | null;
        if (item !== null)
          stack.push({ enter: { node: item, parent: visit, segment: i, entry: 0, size: 0 } });
      }
    }
  }

  let expandedNodes = nodeCount;
  for (const { alias, target } of aliases) {
    if (containsAlias.has(target.node)) {
      issues.push({
        path: pathOf(alias),
        kind: 'yaml_nested_alias',
        offset: offsetOf(alias.node),
        message: `alias '*${(alias.node as { source?: string }).source}' points at a node that itself contains an alias; aliases of aliases are not allowed`,
      });
    } else {
      expandedNodes += target.size;
    }
  }
  if (expandedNodes > 2 * nodeCount && aliasCount <= options.maxAliasCount) {
    const last = aliases[aliases.length - 1]!;
    issues.push({
      path: pathOf(last.alias),
      kind: 'yaml_alias_limit',
      offset: offsetOf(last.alias.node),
      message: `YAML aliases expand the file to ${expandedNodes} nodes from ${nodeCount}; aliases may at most double it`,
    });
  }
  return issues;
}
