/**
 * A small YAML document tree and its renderer, for generated test documents: block and flow
 * collections, every scalar style (plain, possibly over two lines; single- and double-quoted;
 * literal and folded block scalars with each chomping), comments. The tree says what a value is;
 * the renderer picks a way to write it that YAML reads back as that (a style that cannot hold the
 * value falls back to double quotes).
 */

/** A node of the document tree; `raw` is written as it is (numbers, booleans, null). */
export type YamlNode =
  | {
      readonly kind: 'map';
      readonly flow: boolean;
      readonly entries: readonly (readonly [string, YamlNode])[];
    }
  | { readonly kind: 'seq'; readonly flow: boolean; readonly items: readonly YamlNode[] }
  | { readonly kind: 'text'; readonly value: string; readonly style: TextStyle }
  | { readonly kind: 'raw'; readonly source: string };

export type TextStyle = 'plain' | 'plain-folded' | 'single' | 'double' | 'literal' | 'folded';

/** How a document is laid out, beyond its tree. */
export interface Layout {
  /** Comment lines before block entries and after inline values. */
  readonly comments: boolean;
  /** Block lists under a key at the key's own indentation (`key:\n- a`). */
  readonly indentlessLists: boolean;
  readonly leadingDocumentMarker: boolean;
  readonly crlf: boolean;
}

export const KEYWORDS = /^(?:true|false|null|~)$/i;
const PLAIN_BLOCK = /^[A-Za-z][\w./=$-]*(?: [\w./=$-]+)*$/;
const PLAIN_FLOW = /^[A-Za-z][\w./=$-]*$/;
const PLAIN_KEY = /^[A-Za-z_][\w-]*$/;

/** Plain text that YAML 1.1 would read as a boolean, a number or a date, but 1.2 keeps as text. */
export const PLAIN_STRINGS = new Set(['yes', 'No', 'on', 'OFF', 'y', '1_000', '1:30', '2001-01-01']);

const isPlain = (value: string, flow: boolean) =>
  ((flow ? PLAIN_FLOW : PLAIN_BLOCK).test(value) && !KEYWORDS.test(value)) || PLAIN_STRINGS.has(value);
/** Block scalars hold text whose lines start with text, with no line of only blanks. */
const fitsBlockScalar = (value: string) =>
  value
    .split('\n')
    .every((line, i, all) => (line === '' ? i > 0 || all.length > 1 : /^\S(?:.*\S)?$/.test(line)));

function renderText(node: { value: string; style: TextStyle }, indent: number, flow: boolean): string {
  const { value } = node;
  const style = node.style;
  if ((style === 'plain' || style === 'plain-folded') && isPlain(value, flow)) {
    const space = value.indexOf(' ');
    if (style === 'plain-folded' && !flow && space > 0)
      return `${value.slice(0, space)}\n${' '.repeat(indent + 2)}${value.slice(space + 1)}`;
    return value;
  }
  if (style === 'single' && !value.includes('\n')) return `'${value.replace(/'/g, "''")}'`;
  // JSON escapes (\", \\, \n, \t, \uXXXX) are all YAML escapes too.
  return JSON.stringify(value);
}

function renderKey(key: string): string {
  return PLAIN_KEY.test(key) && !KEYWORDS.test(key) ? key : JSON.stringify(key);
}

function renderFlow(node: YamlNode): string {
  switch (node.kind) {
    case 'map':
      return `{${node.entries.map(([key, value]) => `${renderKey(key)}: ${renderFlow(value)}`).join(', ')}}`;
    case 'seq':
      return `[${node.items.map(renderFlow).join(', ')}]`;
    case 'text':
      return renderText(node, 0, true);
    case 'raw':
      return node.source;
    default: {
      const unexpected: never = node;
      throw new Error(`unknown node ${JSON.stringify(unexpected)}`);
    }
  }
}

const isBlockCollection = (node: YamlNode) =>
  (node.kind === 'map' && !node.flow && node.entries.length > 0) ||
  (node.kind === 'seq' && !node.flow && node.items.length > 0);

const isBlockScalar = (
  node: YamlNode,
): node is { kind: 'text'; value: string; style: 'literal' | 'folded' } =>
  node.kind === 'text' &&
  (node.style === 'literal' || node.style === 'folded') &&
  fitsBlockScalar(node.value);

/** ` |-` and the indented lines of a block scalar. */
function renderBlockScalar(value: string, folded: boolean, indent: number): string[] {
  const body = value.replace(/\n+$/, '');
  const trailing = value.length - body.length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const pad = ' '.repeat(indent);
  // Folded text is written one word per line: each single line break folds back into a space.
  const lines = (folded ? body.replace(/ /g, '\n') : body).split('\n');
  const text = lines.map((line) => (line === '' ? '' : pad + line));
  return [`${folded ? '>' : '|'}${chomp}`, ...text, ...Array(Math.max(0, trailing - 1)).fill('')];
}

let noteCount = 0;
const note = () => `# note ${++noteCount}: keep it: [a, b] & *c !d`;

function renderValueAfter(prefix: string, node: YamlNode, indent: number, layout: Layout): string[] {
  if (isBlockScalar(node)) {
    const [header, ...rest] = renderBlockScalar(node.value, node.style === 'folded', indent + 2);
    return [`${prefix} ${header}`, ...rest];
  }
  const inline = node.kind === 'text' ? renderText(node, indent, false) : renderFlow(node);
  const trailing = layout.comments && node.kind !== 'text' ? `  ${note()}` : '';
  return [`${prefix} ${inline}${trailing}`];
}

function renderBlockMap(
  entries: readonly (readonly [string, YamlNode])[],
  indent: number,
  layout: Layout,
): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  entries.forEach(([key, value], index) => {
    if (layout.comments && index % 2 === 1) lines.push(`${pad}${note()}`);
    const prefix = `${pad}${renderKey(key)}:`;
    if (isBlockCollection(value)) {
      lines.push(prefix);
      const childIndent = value.kind === 'seq' && layout.indentlessLists ? indent : indent + 2;
      lines.push(...renderBlock(value, childIndent, layout));
    } else {
      lines.push(...renderValueAfter(prefix, value, indent, layout));
    }
  });
  return lines;
}

function renderBlock(node: YamlNode, indent: number, layout: Layout): string[] {
  if (node.kind === 'map' && isBlockCollection(node)) return renderBlockMap(node.entries, indent, layout);
  if (node.kind !== 'seq' || !isBlockCollection(node)) return renderValueAfter('', node, indent - 2, layout);
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const item of node.items) {
    if (item.kind === 'map' && isBlockCollection(item)) {
      // A compact mapping: its first key on the `- ` line, the others under it.
      const [first = '', ...rest] = renderBlockMap(item.entries, indent + 2, { ...layout, comments: false });
      lines.push(`${pad}- ${first.trimStart()}`, ...rest);
    } else if (isBlockCollection(item)) {
      lines.push(`${pad}-`, ...renderBlock(item, indent + 2, layout));
    } else {
      lines.push(...renderValueAfter(`${pad}-`, item, indent, layout));
    }
  }
  return lines;
}

/** The YAML text of a document whose top level is a block mapping. */
export function renderDocument(root: YamlNode, layout: Layout): string {
  if (root.kind !== 'map') throw new Error('a DAG document is a mapping');
  const lines = renderBlockMap(root.entries, 0, layout);
  if (layout.leadingDocumentMarker) lines.unshift('---');
  if (layout.comments) lines.unshift('# a generated DAG');
  const text = `${lines.join('\n')}\n`;
  return layout.crlf ? text.replace(/\n/g, '\r\n') : text;
}

/** Replaces the `index`-th scalar (counting in document order, modulo their number) by `source`. */
export function replaceScalars(tree: YamlNode, swaps: readonly (readonly [number, string])[]): YamlNode {
  let count = 0;
  const countScalars = (node: YamlNode): void => {
    if (node.kind === 'map') for (const [, value] of node.entries) countScalars(value);
    else if (node.kind === 'seq') for (const item of node.items) countScalars(item);
    else count++;
  };
  countScalars(tree);
  const targets = new Map(swaps.map(([index, source]) => [index % count, source]));
  let seen = 0;
  const swap = (node: YamlNode): YamlNode => {
    if (node.kind === 'map')
      return { ...node, entries: node.entries.map(([key, value]) => [key, swap(value)] as const) };
    if (node.kind === 'seq') return { ...node, items: node.items.map(swap) };
    const source = targets.get(seen++);
    return source === undefined ? node : { kind: 'raw', source };
  };
  return swap(tree);
}
