/**
 * Reads untrusted YAML text into plain data, refusing anything that could hang the process, blow
 * the stack or smuggle in behaviour:
 *
 * - input larger than `maxBytes` (default 1 MiB) is refused before the parser sees it;
 * - nesting deeper than `maxDepth` (default 64) is refused *while* the CST is being built: the
 *   yaml parser is iterative but slows down badly on deep input (1 MiB of `[` takes seconds) and
 *   its composer recurses, so depth is checked on the parser's own stack after every lexeme;
 * - the YAML 1.2 core schema, so `yes`/`no`/`on` stay strings;
 * - `%YAML`/`%TAG` directives, explicit tags, more than one document: refused;
 * - duplicate keys: found by {@link checkYamlTree} with one hash set per mapping, because the
 *   library's `uniqueKeys` compares every key with every other (40,000 keys take 7 s);
 * - aliases: see {@link checkYamlTree}.
 */
import { Composer, CST, type Document, Lexer, LineCounter, Parser } from 'yaml';
import type { DraftIssue, SourceLocator } from './issues.js';
import { createYamlLocator } from './locate.js';
import { checkYamlTree } from './yaml-tree-checks.js';

/** Limits on untrusted YAML; every field is optional. */
export interface YamlLimits {
  /** Largest accepted input in UTF-8 bytes. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of mappings and lists (the top-level mapping is 1). Default 64. */
  readonly maxDepth?: number;
  /** Most alias nodes (`*name`) accepted in one document. Default 100; 0 forbids aliases. */
  readonly maxAliasCount?: number;
}

/** The limits applied when {@link YamlLimits} leaves one out. */
export const DEFAULT_YAML_LIMITS = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliasCount: 100,
} as const satisfies Required<YamlLimits>;

/** Plain data and a locator for it, or the reasons the text was refused. */
export type YamlReadResult =
  | { readonly ok: true; readonly value: unknown; readonly locator: SourceLocator }
  | { readonly ok: false; readonly issues: readonly DraftIssue[]; readonly locator?: SourceLocator };

const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection']);

/** Reads one YAML document into plain data, or explains every reason it was refused. */
export function readYaml(source: string, limits: YamlLimits = {}): YamlReadResult {
  const maxDepth = limits.maxDepth ?? DEFAULT_YAML_LIMITS.maxDepth;
  const maxAliasCount = limits.maxAliasCount ?? DEFAULT_YAML_LIMITS.maxAliasCount;

  const tooLarge = checkInputSize(source, limits);
  if (tooLarge !== undefined) return { ok: false, issues: [tooLarge] };

  const lineCounter = new LineCounter();
  // Parser.parse() would announce the first line itself; driving it lexeme by lexeme, we do.
  lineCounter.addNewLine(0);
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ schema: 'core', uniqueKeys: false, merge: false, prettyErrors: false });
  const documents: Document.Parsed[] = [];
  const issues: DraftIssue[] = [];

  // Where each explicit tag starts. The tree knows which nodes are tagged, but its ranges begin
  // after the tag; the lexer knows where tags are. A tag lexeme starts with '!', and only scalar
  // text (which always follows the lexer's SCALAR marker) can start with '!' otherwise.
  const tagOffsets: number[] = [];
  let scalarTextNext = false;
  for (const lexeme of new Lexer().lex(source)) {
    if (!scalarTextNext && lexeme.startsWith('!')) tagOffsets.push(parser.offset);
    scalarTextNext = lexeme === CST.SCALAR;
    for (const token of parser.next(lexeme)) {
      if (token.type === 'directive') {
        issues.push({
          path: [],
          kind: 'yaml_directive',
          offset: token.offset,
          message: `YAML directives such as ${quoteSource(token.source)} are not supported; remove the line`,
        });
      }
      for (const document of composer.next(token)) documents.push(document);
    }
    // The stack holds the document, the open collections and at most a scalar or two, so its
    // length bounds the depth from above; count precisely only when that bound is exceeded.
    if (parser.stack.length > maxDepth && collectionDepth(parser.stack) > maxDepth) {
      const locator = createYamlLocator(undefined, lineCounter);
      const message = `the YAML is nested more than ${maxDepth} levels deep; a DAG never needs that many`;
      return { ok: false, locator, issues: [{ path: [], kind: 'too_deep', offset: parser.offset, message }] };
    }
    if (documents.length > 1) break;
  }
  if (documents.length <= 1) {
    for (const token of parser.end()) for (const document of composer.next(token)) documents.push(document);
    for (const document of composer.end(false, source.length)) documents.push(document);
  }

  const first = documents[0];
  const locator = createYamlLocator(first, lineCounter);
  if (documents.length > 1) {
    issues.push({
      path: [],
      kind: 'yaml_multiple_documents',
      offset: documents[1]?.range[0] ?? 0,
      message: `the file holds more than one YAML document (separated by '---'); put each DAG in its own file`,
    });
  }
  if (first === undefined) {
    // Nothing but comments or whitespace: an empty DAG, which validation reports as such.
    for (const error of composer.streamInfo().errors) issues.push(syntaxIssue(error.pos[0], error.message));
    return issues.length > 0 ? { ok: false, locator, issues } : { ok: true, locator, value: null };
  }
  for (const problem of [...first.errors, ...first.warnings]) {
    // Unresolved tags are reported, with a better message, by the tag check below.
    if (problem.code !== 'TAG_RESOLVE_FAILED') issues.push(syntaxIssue(problem.pos[0], problem.message));
  }
  if (issues.length > 0) return { ok: false, locator, issues };

  const treeIssues = checkYamlTree(first, { maxAliasCount, tagOffsets, position: locator.position });
  if (treeIssues.length > 0) return { ok: false, locator, issues: treeIssues };

  try {
    // The library counts an anchor's own node as one use, hence the + 1.
    return { ok: true, locator, value: first.toJS({ maxAliasCount: maxAliasCount + 1 }) };
  } catch (error) {
    // The tree checks make this unreachable in practice; the library's own alias guard stays on
    // as a second line of defence, and a refusal is better than a crash.
    const message = `the YAML could not be read: ${error instanceof Error ? error.message : String(error)}`;
    return { ok: false, locator, issues: [{ path: [], kind: 'yaml_alias_limit', message }] };
  }
}

/** Refuses input larger than `maxBytes` (UTF-8), before any parser sees it. */
export function checkInputSize(
  source: string,
  limits: Pick<YamlLimits, 'maxBytes'> = {},
): DraftIssue | undefined {
  const maxBytes = limits.maxBytes ?? DEFAULT_YAML_LIMITS.maxBytes;
  // `length` is a lower bound of the UTF-8 size, so huge strings are refused without a scan.
  const bytes = source.length > maxBytes ? source.length : Buffer.byteLength(source, 'utf8');
  if (bytes <= maxBytes) return undefined;
  const size = source.length > maxBytes ? `at least ${formatBytes(bytes)}` : formatBytes(bytes);
  const message = `the DAG file is ${size}; the limit is ${formatBytes(maxBytes)}`;
  return { path: [], kind: 'input_too_large', message };
}

function collectionDepth(stack: readonly { readonly type: string }[]): number {
  let depth = 0;
  for (const token of stack) if (COLLECTION_TOKENS.has(token.type)) depth++;
  return depth;
}

function syntaxIssue(offset: number, message: string): DraftIssue {
  return { path: [], kind: 'yaml_syntax', offset, message: `YAML syntax error: ${message}` };
}

function quoteSource(text: string): string {
  const line = text.trim();
  return `'${line.length > 40 ? `${line.slice(0, 37)}...` : line}'`;
}

function formatBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib) return `${bytes} bytes (${(bytes / mib).toFixed(1).replace(/\.0$/, '')} MiB)`;
  if (bytes >= 1024) return `${bytes} bytes (${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB)`;
  return `${bytes} bytes`;
}
