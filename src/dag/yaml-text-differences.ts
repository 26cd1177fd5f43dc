/**
 * Where js-yaml and the `yaml` library read the same text differently, or where the located
 * reader (yaml-safety.ts) treats a construct specially, seen in the text itself. Each check
 * returns why the fast path must give up, or `undefined`. Most differences were found by
 * differential fuzzing of the two libraries (test/unit/dag/fast-path*.test.ts keep them found).
 *
 * Offsets are into js-yaml's copy of the input, which it ends with a line break and a NUL.
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const BANG = 0x21;
const AMPERSAND = 0x26;
const ASTERISK = 0x2a;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const PIPE = 0x7c;
const GREATER = 0x3e;
/** `yaml` allows 1024 characters from an implicit key's start to its `:`; a little less is safe. */
const MAX_IMPLICIT_KEY_SPAN = 1000;

const GLUED_COMMENT = 'a comment not separated from the token before it';

/** Differences that a scan of the whole text finds, before either library runs. */
export function checkWholeText(source: string): string | undefined {
  // `yaml` reads a BOM before `- a` as text of the first line; js-yaml drops it.
  if (source.includes('\uFEFF')) return 'a byte order mark';
  // A CR alone ends a line for js-yaml, as the YAML spec says, but not for `yaml`.
  for (let i = source.indexOf('\r'); i !== -1; i = source.indexOf('\r', i + 1))
    if (source.charCodeAt(i + 1) !== LF) return 'a line break that is a CR alone';
  // Inside a scalar that spans lines, a line that starts with a tab is blank to js-yaml and bad
  // indentation to `yaml` (between entries both skip it). Such lines are rare: give up on all.
  if (source.startsWith('\t') || source.includes('\n\t')) return 'a line that starts with a tab';
  // `\U00110000` is past Unicode: an error to `yaml`, two broken surrogates to js-yaml.
  for (const match of source.matchAll(LONG_UNICODE_ESCAPE))
    if (Number.parseInt(match[1]!, 16) > 0x10ffff) return 'an escape past the last code point';
  // `--- - a` is a list to js-yaml and an error to `yaml`; `...` and a second `---` end the
  // document, and the located reader reports what follows. `%` directives need a `---` line
  // after them, so they go too. A `---` line before the content is common, and allowed.
  const from = LEADING_DOCUMENT_START.exec(source)?.[0].length ?? 0;
  for (const marker of ['---', '...'])
    if (source.startsWith(marker, from) || source.includes(`\n${marker}`, from)) return 'a document marker';
  return undefined;
}

const LONG_UNICODE_ESCAPE = /\\U([0-9A-Fa-f]{8})/g;
/** Blank and comment lines, then a `---` line with at most a comment after it. */
const LEADING_DOCUMENT_START = /^(?:[ \t]*(?:#[^\r\n]*)?\r?\n)*---[ \t]*(?:#[^\r\n]*)?\r?\n/;

/**
 * Differences at the start of a node that js-yaml is about to read from `position`. Properties
 * (`!tag`, `&anchor`) and aliases come first in a node; js-yaml tells its listener about them
 * only once the node is done, and by then `!!int 5` looks like `5`, so the text is looked at.
 * A `[` or `{` with a `#` glued to it is a comment to js-yaml and an error to `yaml`.
 */
export function checkNodeStart(input: string, position: number): string | undefined {
  const at = skipSeparation(input, position);
  const first = input.charCodeAt(at);
  if (first === BANG || first === AMPERSAND || first === ASTERISK) return 'a tag, anchor or alias';
  if ((first === OPEN_BRACKET || first === OPEN_BRACE) && input.charCodeAt(at + 1) === HASH)
    return GLUED_COMMENT;
  return undefined;
}

/**
 * Differences just past a node that js-yaml read from `start` to `end`: a comment glued to the
 * token before it (`"a"#c`, `[a]#c`, `a,#c`, `"a":#c`), which js-yaml reads as a comment; an
 * implicit key whose `:` comes over 1024 characters after its start, which js-yaml allows;
 * and, for a block scalar, blank lines the two read differently (see {@link blankLineProblem}).
 */
export function checkNodeEnd(
  input: string,
  start: number,
  end: number,
  isScalar: boolean,
): string | undefined {
  let i = end;
  let c = input.charCodeAt(i);
  if (c === HASH && !isSeparator(input.charCodeAt(i - 1))) return GLUED_COMMENT;
  while (c === SPACE || c === TAB) c = input.charCodeAt(++i);
  if ((c === COMMA || c === COLON) && input.charCodeAt(i + 1) === HASH) return GLUED_COMMENT;
  if (c === COLON && i - start > MAX_IMPLICIT_KEY_SPAN) return 'an implicit key of over 1000 characters';
  if (!isScalar) return undefined;
  // A scalar whose text starts with `|` or `>` is a block scalar (no other scalar can).
  const at = skipSeparation(input, start);
  const first = input.charCodeAt(at);
  return first === PIPE || first === GREATER ? blankLineProblem(input, at, end) : undefined;
}

/**
 * Whether the block scalar at `start` has a line of only blanks that the libraries read
 * differently: one with a tab; one of spaces after the last line of text (content, or chomped?);
 * or whether a line indented with a tab follows it. Lines of spaces between lines of text, which
 * editors leave in scripts, read alike.
 */
function blankLineProblem(input: string, start: number, end: number): string | undefined {
  const problem = 'a block scalar with a blank line of spaces or tabs';
  let last = end;
  while (isSeparator(input.charCodeAt(last))) last++;
  let spacesAfterText = false;
  for (let i = input.indexOf('\n', start); i !== -1 && i < last; i = input.indexOf('\n', i + 1)) {
    let j = i + 1;
    let tabs = false;
    let c = input.charCodeAt(j);
    for (; c === SPACE || c === TAB; c = input.charCodeAt(++j)) tabs ||= c === TAB;
    const blank = c === LF || c === CR || c === 0 || Number.isNaN(c);
    // The text at `last` is the next token's, not the scalar's; a tab before it (`\t# c`) ends
    // the scalar for js-yaml and is an indentation error for `yaml`.
    if (j >= last && !blank) return tabs || spacesAfterText ? problem : undefined;
    if (blank && tabs) return problem;
    spacesAfterText = blank ? spacesAfterText || j > i + 1 : false;
  }
  return spacesAfterText ? problem : undefined;
}

const isSeparator = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR;

/** The offset of the first character after spaces, tabs, line breaks and comments from `start`. */
function skipSeparation(input: string, start: number): number {
  let i = start;
  for (;;) {
    const c = input.charCodeAt(i);
    if (isSeparator(c)) i++;
    else if (c === HASH) {
      // A `#` where a node may start is a comment to js-yaml (a plain scalar cannot start with it).
      while (i < input.length && input.charCodeAt(i) !== LF && input.charCodeAt(i) !== CR) i++;
    } else return i;
  }
}
