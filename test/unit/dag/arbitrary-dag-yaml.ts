/**
 * fast-check arbitraries for DAG documents written the many ways YAML allows (see yaml-tree.ts):
 * every task type and field, numbers in several notations, text with the characters YAML cares
 * about. Every generated document is a valid DAG; `trickyScalar` values make some of them not.
 */
import fc from 'fast-check';
import { BACKOFF_KINDS, FAILURE_KINDS, TASK_TYPES, TRIGGER_RULES } from '../../../src/dag/index.js';
import { KEYWORDS, type Layout, PLAIN_STRINGS, type TextStyle, type YamlNode } from './yaml-tree.js';

const style = fc.constantFrom<TextStyle>(
  'plain',
  'plain',
  'plain-folded',
  'single',
  'double',
  'literal',
  'folded',
);
const textOf = (value: fc.Arbitrary<string>) =>
  fc.record({ kind: fc.constant('text' as const), value, style });
const raw = (...sources: string[]) =>
  fc.constantFrom(...sources).map((source) => ({ kind: 'raw' as const, source }));
const seqOf = (item: fc.Arbitrary<YamlNode>, min = 0, max = 4) =>
  fc.record({
    kind: fc.constant('seq' as const),
    flow: fc.boolean(),
    items: fc.array(item, { minLength: min, maxLength: max }),
  });
const mapOf = (entries: fc.Arbitrary<readonly (readonly [string, YamlNode])[]>) =>
  fc.record({ kind: fc.constant('map' as const), flow: fc.boolean(), entries });

const WORDS = [
  'echo',
  'hello world',
  '$HOME',
  '&&',
  '||',
  '#1',
  'a: b',
  '- x',
  '"q"',
  "'s'",
  'C:\\tmp',
  '{{ params.day }}',
  'é',
  '😀',
  'x\ty',
  '0.5',
  '42',
  'true',
  'null',
  '~',
  '!x',
  '*y',
  '%z',
  '@a',
  '`b`',
  ...PLAIN_STRINGS,
];
/** Text with the characters YAML cares about, lines included. */
const anyText = fc
  .array(fc.oneof(fc.constantFrom(...WORDS), fc.stringMatching(/^[a-z]{1,8}$/), fc.constant('\n')), {
    minLength: 1,
    maxLength: 8,
  })
  .map((parts) =>
    parts
      .join(' ')
      .replace(/ ?\n ?/g, '\n')
      .trim(),
  )
  .filter((text) => text !== '');
const word = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((key) => !KEYWORDS.test(key));
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/);

const duration = fc.oneof(
  textOf(fc.constantFrom('10m', '30s', '1h30m', '250ms', '2d')),
  raw('5000', '0x1F4', '1e4'),
);
const retry = fc
  .record(
    {
      maxAttempts: raw('1', '3', '10', '0x3', '0o7', '+3', '3.0', '1e1', '07'),
      backoff: textOf(fc.constantFrom(...BACKOFF_KINDS)),
      initialDelay: fc.oneof(textOf(fc.constantFrom('1s', '500ms')), raw('1000')),
      maxDelay: fc.oneof(textOf(fc.constantFrom('10m', '1h')), raw('600000')),
      jitter: fc.oneof(
        raw('0', '1', '0.5', '.5', '5e-1', '1.0', '0.25'),
        textOf(fc.constantFrom('full', 'none')),
      ),
      retryOn: seqOf(textOf(fc.constantFrom(...FAILURE_KINDS)), 0, 3),
    },
    { requiredKeys: [] },
  )
  .chain((fields) => mapOf(fc.constant(Object.entries(fields) as [string, YamlNode][])));
const env = fc
  .uniqueArray(fc.tuple(envName, textOf(anyText)), { selector: ([name]) => name, maxLength: 4 })
  .chain((entries) => mapOf(fc.constant(entries)));
const scalarValue = fc.oneof(
  raw(
    '1',
    '-2',
    '3.5',
    '-0.0',
    '0o17',
    '0x1F',
    '1e3',
    '.5',
    '+12',
    '012',
    'true',
    'True',
    'FALSE',
    'null',
    '~',
  ),
  textOf(anyText),
);
// Lists hold no nulls: js-yaml can misplace the entries after an empty one, so the fast path
// gives up on a null in a list (yaml-fast-path.ts); these documents are meant to take it.
const jsonValue: fc.Arbitrary<YamlNode> = fc.letrec<{ value: YamlNode }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarValue,
    seqOf(
      fc.oneof(
        raw('1', 'true', '2.5', '-0.0'),
        textOf(anyText),
        tie('value').filter((v) => v.kind !== 'raw'),
      ),
      1,
      3,
    ),
    fc
      .uniqueArray(fc.tuple(word, tie('value')), { selector: ([key]) => key, maxLength: 3 })
      .chain((entries) => mapOf(fc.constant(entries))),
  ),
})).value;

/** The fields of one task of `type`, given the ids it may depend on. */
function taskFields(type: (typeof TASK_TYPES)[number], earlier: readonly string[]) {
  const common = {
    description: textOf(anyText),
    dependencies: fc.record({
      kind: fc.constant('seq' as const),
      flow: fc.boolean(),
      items: fc
        .subarray([...earlier])
        .map((ids) => ids.map((id) => ({ kind: 'text' as const, value: id, style: 'plain' as const }))),
    }),
    timeout: duration,
    retry,
    env,
    triggerRule: textOf(fc.constantFrom(...TRIGGER_RULES)),
    labels: seqOf(textOf(anyText), 0, 3),
  };
  const byType = {
    shell: {
      command: fc.oneof(textOf(anyText), seqOf(textOf(anyText), 1, 3)),
      cwd: textOf(fc.constant('/srv/jobs')),
    },
    python: {
      code: textOf(anyText.map((code) => `import sys\n${code}`)),
      args: seqOf(textOf(anyText), 0, 3),
    },
    http: {
      url: textOf(
        fc.constantFrom('https://example.com/a', 'http://h:8080/x?y=1#f', 'https://x.io/{{ params.day }}'),
      ),
      method: textOf(fc.constantFrom('GET', 'post', 'Put', 'delete')),
      headers: fc
        .uniqueArray(fc.tuple(fc.constantFrom('Accept', 'X-Trace', 'Content-Type'), textOf(anyText)), {
          selector: ([name]) => name,
          maxLength: 2,
        })
        .chain((entries) => mapOf(fc.constant(entries))),
      body: fc.oneof(
        textOf(anyText),
        jsonValue.filter((value) => value.kind === 'map' || value.kind === 'seq'),
      ),
      expectedStatus: fc.oneof(raw('200', '404', '0xC8'), textOf(fc.constant('2xx'))),
    },
    noop: {},
  } as const;
  const required =
    type === 'shell' ? ['command'] : type === 'http' ? ['url'] : type === 'python' ? ['code'] : [];
  return fc.record({ ...common, ...byType[type] }, { requiredKeys: required as never[] });
}

const task = (id: string, earlier: readonly string[]) =>
  fc
    .constantFrom(...TASK_TYPES)
    .chain((type) =>
      taskFields(type, earlier).chain((fields) =>
        mapOf(
          fc.constant([
            ['id', { kind: 'text', value: id, style: 'plain' }],
            ['type', { kind: 'text', value: type, style: 'plain' }],
            ...Object.entries(fields),
          ] as [string, YamlNode][]),
        ),
      ),
    );

/** A valid DAG document as a tree: 1 to 6 tasks, each depending only on earlier ones. */
export const dagTree: fc.Arbitrary<YamlNode> = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,10}$/), { minLength: 1, maxLength: 6 })
  .chain((ids) =>
    fc
      .tuple(
        ...ids.map((id, i) => task(id, ids.slice(0, i))),
        fc.record(
          {
            description: textOf(anyText),
            params: fc
              .uniqueArray(fc.tuple(word, scalarValue), {
                selector: ([name]) => name,
                maxLength: 3,
              })
              .chain((entries) => mapOf(fc.constant(entries))),
            defaults: fc
              .record(
                { timeout: duration, retry, env, triggerRule: textOf(fc.constantFrom(...TRIGGER_RULES)) },
                { requiredKeys: [] },
              )
              .chain((fields) => mapOf(fc.constant(Object.entries(fields) as [string, YamlNode][]))),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
      )
      .map((parts) => {
        const tasks = parts.slice(0, ids.length) as YamlNode[];
        const top = parts[ids.length] as Record<string, YamlNode>;
        const flowTasks = parts[ids.length + 1] as boolean;
        return {
          kind: 'map' as const,
          flow: false,
          entries: [
            ['name', { kind: 'text' as const, value: 'generated-dag', style: 'plain' as const }],
            ...Object.entries(top),
            ['tasks', { kind: 'seq' as const, flow: flowTasks, items: tasks }],
          ] as [string, YamlNode][],
        };
      }),
  );

export const layout: fc.Arbitrary<Layout> = fc.record({
  comments: fc.boolean(),
  indentlessLists: fc.boolean(),
  leadingDocumentMarker: fc.boolean(),
  crlf: fc.boolean(),
});

/** Scalars where the libraries or the YAML versions could disagree, for values anywhere. */
export const trickyScalar = fc.constantFrom(
  '0b101',
  '-0',
  '+.5',
  '-.5',
  '1e400',
  '0x1F',
  '-0x1F',
  '0o17',
  '1_000',
  '.inf',
  '-.Inf',
  '.NaN',
  '1.',
  '012',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'True',
  'tRUE',
  'NULL',
  'Null',
  '~',
  '2001-01-01',
  '1:30',
  '0x',
  '+',
  '-',
  '.',
  '=',
  '<<',
);
