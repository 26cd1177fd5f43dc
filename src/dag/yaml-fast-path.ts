/**
 * A fast reader for YAML that is plainly valid. js-yaml reads a 1.4 MB DAG some ten times faster
 * than the `yaml` library, but knows no positions and differs from it at the edges. So this reader
 * gives up (and says why) on everything the located reader (yaml-safety.ts) treats specially and
 * everywhere the two libraries could disagree; parseDag then runs the located reader, which
 * decides. Giving up is always safe: it only costs time. Accepting is safe only if the value is
 * the one the located reader would produce, and the property tests hold it to that.
 *
 * It gives up on:
 * - tags, anchors and aliases, seen in the text where each node starts (yaml-text-differences.ts);
 * - warnings, syntax errors, duplicate keys, more than one document: js-yaml throws (warnings
 *   are made to throw); `---`, `...` and `%` lines (but for one `---` line before the content);
 * - nesting deeper than `maxDepth`, counted on open and close of every node, scalars included: a
 *   document whose scalars sit exactly at the limit gives up too, and the located reader decides;
 *   a stack overflow (RangeError) is caught like any other exception;
 * - keys that were not strings (`1:`, `~:`, `[a, b]:`; js-yaml turns them into strings), and the
 *   keys `<<` and `__proto__`;
 * - plain scalars that js-yaml resolves differently from the `yaml` core schema (core-scalars.ts);
 * - a null entry in a list: after an empty entry (`- - a\n  -\n- b`) js-yaml can put the entries
 *   that follow in the wrong list;
 * - the other differences in the text listed in yaml-text-differences.ts.
 */
import * as jsYaml from 'js-yaml';
import { FAILSAFE_SCHEMA, type State, Type } from 'js-yaml';
import { coreScalarValue, mayResolveToNonString } from './core-scalars.js';
import { checkNodeEnd, checkNodeStart, checkWholeText } from './yaml-text-differences.js';

/** The value, or why the fast path gave up (for tests and debugging; never shown to users). */
export type FastReadResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

/** What the listener reads besides the typed fields: a node's properties, set once it is done. */
interface NodeState extends State {
  readonly tag: string | null;
  readonly anchor: string | null;
}

type CoreTypeName = 'null' | 'bool' | 'int' | 'float';
// js-yaml exports its types at run time (index.js: `types`), but @types/js-yaml leaves them out.
const jsYamlTypes = (jsYaml as unknown as { types?: Partial<Record<CoreTypeName, Type>> }).types;
const CORE_TYPES = (['null', 'bool', 'int', 'float'] as const).map((name) => jsYamlTypes?.[name]);

/** The tags js-yaml gives plain scalars it resolves; any other tag was written out. */
const IMPLICIT_TAGS = new Set(['null', 'bool', 'int', 'float'].map((name) => `tag:yaml.org,2002:${name}`));

/** Thrown inside js-yaml's callbacks to stop it; caught by {@link readYamlFast}. */
class GiveUp extends Error {}

const giveUp = (reason: string): never => {
  throw new GiveUp(reason);
};

/**
 * Reads one YAML document with js-yaml's core schema, or gives up. `maxDepth` is that of
 * YamlLimits; the size limit is checked by the caller first.
 */
export function readYamlFast(source: string, maxDepth: number): FastReadResult {
  const coreTypes = CORE_TYPES.filter((type): type is Type => type !== undefined);
  if (coreTypes.length !== CORE_TYPES.length) return { ok: false, reason: 'js-yaml exports no core types' };
  const unsupported = checkWholeText(source);
  if (unsupported !== undefined) return { ok: false, reason: unsupported };

  // The text of the plain scalar being resolved, kept until its node closes (see below).
  let plain: string | undefined;
  const capture = new Type('tag:dagrun,2025:plain-scalar', {
    kind: 'scalar',
    resolve: (text: string) => {
      if (mayResolveToNonString(text)) plain = text;
      return false;
    },
  });
  // `capture` is tried first on every plain scalar, then js-yaml's own core types as usual.
  const schema = FAILSAFE_SCHEMA.extend({ implicit: [capture, ...coreTypes] });

  // Where each open node starts: the key of an implicit pair is measured from it.
  const starts: number[] = [];
  // Every list and mapping js-yaml built; each must end up in the value, or it was used as a key.
  const collections = new Set<object>();
  const listener = (event: 'open' | 'close', state: State): void => {
    const node = state as NodeState;
    const input = node.input;
    if (event === 'open') {
      if (starts.push(node.position) > maxDepth) giveUp(`nesting deeper than ${maxDepth}`);
      const problem = checkNodeStart(input, node.position);
      if (problem !== undefined) giveUp(problem);
      return;
    }
    const problem = checkNodeEnd(input, starts.pop()!, node.position, node.kind === 'scalar');
    if (problem !== undefined) giveUp(problem);
    // The text check above should make these unreachable; they are cheap to keep.
    if (node.anchor !== null) giveUp('an anchor');
    if (node.tag !== null && node.tag !== '?' && !IMPLICIT_TAGS.has(node.tag)) giveUp('a tag');
    if (plain !== undefined) {
      // The scalar just resolved by js-yaml (`node.result`) must mean what it means to `yaml`.
      const expected = coreScalarValue(plain);
      plain = undefined;
      if (node.kind !== 'scalar' || !Object.is(expected, node.result))
        giveUp('a plain scalar that js-yaml reads differently');
    }
    if (node.result !== null && typeof node.result === 'object') collections.add(node.result as object);
  };

  let value: unknown;
  try {
    value = jsYaml.load(source, {
      schema,
      json: false,
      listener,
      onWarning: (warning) => giveUp(`a warning: ${warning.message}`),
    });
  } catch (error) {
    // GiveUp, a syntax error, a duplicate key, two documents, a RangeError: all mean "not here".
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const keyProblem = checkKeysAndCollections(value, collections);
  return keyProblem === undefined ? { ok: true, value } : { ok: false, reason: keyProblem };
}

/**
 * Walks the value once: every key must be a string as written (js-yaml has turned `1`, `~` and
 * `[a]` into `'1'`, `'null'` and `'a'`), not `<<` or `__proto__`, and every list and mapping
 * js-yaml built must be in the value (one that is not was a key).
 */
function checkKeysAndCollections(value: unknown, collections: Set<object>): string | undefined {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item !== 'object') continue;
    // Visiting each collection once also keeps the walk finite whatever the value holds.
    if (!collections.delete(item)) return 'a list or mapping js-yaml built on its own';
    if (Array.isArray(item)) {
      for (const child of item) {
        // js-yaml can attach the entries after an empty one (`- - a\n  -\n- b`) to the wrong list.
        if (child === null) return 'an empty or null list entry';
        pending.push(child);
      }
      continue;
    }
    for (const key of Object.keys(item)) {
      if (key === '<<' || key === '__proto__') return `the key '${key}'`;
      if (mayBeNonStringKey(key)) return `the key '${key}', which may not have been a string`;
      pending.push((item as Record<string, unknown>)[key]);
    }
  }
  return collections.size > 0 ? 'a list or mapping used as a key' : undefined;
}

/**
 * Whether js-yaml could have made `key` from a number, a boolean or null: `String()` of those
 * starts with a digit or `-`, or is `true`, `false`, `null`, `NaN` or `Infinity`. A string key
 * that looks like one gives up too; it only costs time.
 */
function mayBeNonStringKey(key: string): boolean {
  const first = key.charCodeAt(0);
  if ((first >= 0x30 && first <= 0x39) || first === 0x2d) return true;
  return key === 'true' || key === 'false' || key === 'null' || key === 'NaN' || key === 'Infinity';
}
