/**
 * Loosely YAML-shaped text, for differential tests of the two readers: mostly valid, often not,
 * with the spots where YAML parsers tend to disagree (odd indentation, tabs, comments glued to
 * tokens, blank lines of spaces, block scalar headers, CR line breaks, document markers, numbers
 * in every notation, long keys). Not a DAG: the readers are compared on any value.
 */
import fc from 'fast-check';

// Mostly ordinary values, so that the fast reader takes many documents; now and then an odd one.
const SCALARS = [
  'a',
  'hello world',
  'a#b',
  'true',
  'yes',
  'null',
  '~',
  '0',
  '012',
  '0o17',
  '0x1F',
  '1_000',
  '1.',
  '.5',
  '1e3',
  '.inf',
  '1:30',
  'é 😀',
  'a\tb',
  'x-y',
  '"d q"',
  "'s q'",
  "'it''s'",
  '"\x41\u263AU0001F600/N_"',
  '{a: 1, b}',
  '[a,]',
  '[]',
  '{}',
  '[a, b]',
];
const ODD_SCALARS = [
  'x: y',
  'a #b',
  '- a',
  '? a',
  'TRUE',
  '-0',
  '-0x1F',
  '0b101',
  '-.5',
  '1e400',
  '-.Inf',
  '.NaN',
  '@x',
  '`x',
  '%x',
  'a]',
  'a,b',
  '!x',
  '&x',
  '*x',
  '"U00110000"',
  '"aq"',
  '"a"#c',
  '[a]#c',
  '[a,#c\n b]',
  '[a: b]',
  '[a, , b]',
];
const KEYS = ['a', 'b', 'k1', 'x y', 'é', '"q"', "'q'"];
const ODD_KEYS = [
  '1',
  '-1',
  '1.5',
  'null',
  '~',
  'true',
  '<<',
  '__proto__',
  '""',
  '[a]',
  '? a',
  'k'.repeat(1030),
];
const SEPARATORS = [' '];
const COMMENTS = ['', ' # c', '  #  x: y'];
const ODD_COMMENTS = ['#c', '\t# t'];

const often = <T>(usual: readonly T[], odd: readonly T[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: fc.constantFrom(...odd) },
  );
const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

/** A block scalar: a header, then lines that are sometimes blank, blank with spaces, tabbed or less indented. */
const blockScalar = (indent: number) =>
  fc
    .tuple(
      pick(['|', '>', '|-', '|+', '>-', '>+', '|2', '>1', '| # c']),
      fc.array(
        pick(['text', 'more', '  deeper', '', ' ', '   ', '\t', '\tx', '# not a comment', 'k: v', '- y']),
        {
          minLength: 1,
          maxLength: 5,
        },
      ),
    )
    .map(([header, lines]) => {
      const pad = ' '.repeat(indent + 2);
      const text = ['text', ...lines].map((line) => (line.trim() === '' ? line : pad + line));
      return `${header}\n${text.join('\n')}`;
    });

const scalar = (indent: number) =>
  fc.oneof(
    { weight: 5, arbitrary: often(SCALARS, ODD_SCALARS) },
    { weight: 1, arbitrary: blockScalar(indent) },
  );

/** Lines of a block collection at `indent` (a list, or a mapping, and rarely a mix), nested up to `depth` more levels. */
const block = (indent: number, depth: number): fc.Arbitrary<string[]> =>
  often(['list', 'map'], ['mixed'])
    .chain((shape) =>
      fc.array(
        fc.tuple(
          shape === 'mixed' ? fc.boolean() : fc.constant(shape === 'list'),
          often(KEYS, ODD_KEYS),
          often(SEPARATORS, ['  ', '\t', ' \t']),
          depth > 0 ? fc.option(fc.constantFrom(1, 2, 4)) : fc.constant(null),
          scalar(indent),
          often(COMMENTS, ODD_COMMENTS),
          often(['', '', '', '', '# comment'], ['  ', '\t']),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .chain((entries) =>
      fc.tuple(
        ...entries.map(([isItem, key, separator, nested, value, comment, before]) => {
          const lead = `${' '.repeat(indent)}${isItem ? '-' : `${key}:`}`;
          const prefix = before === '' ? [] : [before];
          if (nested === null) return fc.constant([...prefix, `${lead}${separator}${value}${comment}`]);
          return block(indent + nested, depth - 1).map((child) => [...prefix, `${lead}${comment}`, ...child]);
        }),
      ),
    )
    .map((groups) => groups.flat());

/** A document: a block collection, with sometimes a marker, a BOM or other line breaks. */
export const yamlText: fc.Arbitrary<string> = fc
  .tuple(
    block(0, 3),
    often(['', '---\n', '# top\n'], ['--- ', '\uFEFF', '%YAML 1.2\n---\n']),
    often(['\n', '\r\n'], ['\r']),
    often(['', '\n'], ['\n...\n', '\n---\n']),
  )
  .map(([lines, start, lineBreak, end]) => `${start}${lines.join('\n')}${end}`.replace(/\n/g, lineBreak));
