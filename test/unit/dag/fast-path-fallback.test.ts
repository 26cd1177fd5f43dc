/**
 * What the fast path gives up on, so that the located path reports it exactly as before (the
 * issues themselves are pinned down in yaml-safety.test.ts and the other tests of this folder).
 */
import { describe, expect, it } from 'vitest';
import { parseDag } from '../../../src/dag/index.js';
import { parseDagFast, parseDagSlow } from '../../../src/dag/parse-dag.js';
import { readYamlFast } from '../../../src/dag/yaml-fast-path.js';
import { taskA, yaml } from './helpers.js';

describe('fallback: what the fast path leaves to the located path', () => {
  // Each gives the located path's result, which the tests in yaml-safety.test.ts pin down.
  it.each([
    [
      'an alias to no anchor',
      taskA('    cwd: *nowhere'),
      'a tag, anchor or alias',
      {
        kind: 'yaml_unknown_anchor',
        path: 'tasks[0].cwd',
        line: 6,
        column: 10,
      },
    ],
    [
      'an anchor',
      yaml('name: p', 'tasks:', '  - {id: a, type: shell, command: &c ls}'),
      'a tag, anchor or alias',
      undefined,
    ],
    [
      'an alias inside its own anchor',
      yaml('loop: &l [1, *l]', 'name: p'),
      'a tag, anchor or alias',
      {
        kind: 'yaml_nested_alias',
        path: 'loop[1]',
        line: 1,
        column: 14,
      },
    ],
    [
      'a tag',
      yaml(
        'name: p',
        'tasks:',
        '  - id: a',
        '    type: shell',
        '    command: !!python/object/apply:os.system ["ls"]',
      ),
      'a tag, anchor or alias',
      { kind: 'yaml_tag', path: 'tasks[0].command', line: 5, column: 14 },
    ],
    [
      'a standard tag',
      taskA('    cwd: !!str /tmp'),
      'a tag, anchor or alias',
      { kind: 'yaml_tag', path: 'tasks[0].cwd' },
    ],
    ['a tag on a key', taskA('    !!str cwd: /tmp'), 'a tag, anchor or alias', { kind: 'yaml_tag' }],
    [
      'a merge key',
      yaml('base: &base {timeout: 5m}', 'name: p', 'tasks:', '  - <<: *base', '    id: a'),
      'a tag, anchor or alias',
      { kind: 'yaml_merge_key', line: 4, column: 5 },
    ],
    [
      'a merge key without anchors',
      taskA('    <<: {timeout: 5m}'),
      "the key '<<'",
      { kind: 'yaml_merge_key', line: 6, column: 5 },
    ],
    [
      'a duplicate key',
      taskA('    command: rm -rf /'),
      'duplicated mapping key',
      {
        kind: 'yaml_duplicate_key',
        path: 'tasks[0].command',
        line: 6,
        column: 5,
      },
    ],
    [
      'keys equal as text (1 and "1")',
      taskA('    env:', '      1: a', '      "1": b'),
      'duplicated mapping key',
      {
        kind: 'yaml_duplicate_key',
        line: 8,
        column: 7,
      },
    ],
    [
      'two documents',
      `${taskA()}---\n${taskA()}`,
      'a document marker',
      {
        kind: 'yaml_multiple_documents',
        path: '',
        line: 6,
        column: 1,
      },
    ],
    [
      'a directive',
      `%YAML 1.2\n---\n${taskA()}`,
      'a document marker',
      { kind: 'yaml_directive', line: 1, column: 1 },
    ],
    [
      'a list as a key',
      taskA('    ? [a, b]', '    : c'),
      'a list or mapping used as a key',
      {
        kind: 'yaml_complex_key',
        path: 'tasks[0]',
        line: 6,
        column: 7,
      },
    ],
    ['a null key', taskA('    env: {~: x}'), "the key 'null'", undefined],
    [
      '__proto__ as a key',
      taskA('    env: {__proto__: x}'),
      "the key '__proto__'",
      { kind: 'invalid_value' },
    ],
    ['deep nesting', `x: ${'['.repeat(100_000)}`, 'nesting deeper than 64', { kind: 'too_deep' }],
  ])('given %s, then the fast path gives up and parseDag reports as before', (_, source, reason, issue) => {
    const fast = readYamlFast(source, 64);
    expect(fast.ok).toBe(false);
    if (!fast.ok) expect(fast.reason).toContain(reason);
    const result = parseDag(source);
    expect(result).toEqual(parseDagSlow(source));
    if (issue !== undefined)
      expect(result.ok ? [] : result.issues).toContainEqual(expect.objectContaining(issue));
  });

  it('given nesting at exactly maxDepth, then the fast path gives up and the located path accepts it', () => {
    const body = `${'['.repeat(6)}1${']'.repeat(6)}`;
    const source = yaml('name: p', 'tasks:', `  - {id: a, type: http, url: "https://x.io", body: ${body}}`);
    expect(readYamlFast(source, 9)).toMatchObject({ ok: false, reason: 'nesting deeper than 9' });
    expect(parseDag(source, { maxDepth: 9 }).ok).toBe(true);
    expect(parseDag(source, { maxDepth: 8 })).toEqual(parseDagSlow(source, { maxDepth: 8 }));
  });

  // Text the two libraries read differently: found by differential fuzzing of the two readers.
  it.each([
    ['a comment glued to a quoted scalar', taskA('    cwd: "/tmp"#c'), 'a comment not separated'],
    ['a comment glued to a flow list', taskA('    labels: [a]#c'), 'a comment not separated'],
    ['a comment glued to a comma', taskA('    labels: [a,#c', '      b]'), 'a comment not separated'],
    [
      'a comment glued to an opening bracket',
      taskA('    labels: [#c', '      b]'),
      'a comment not separated',
    ],
    ['a line break that is a CR alone', taskA('    cwd: /tmp').replace(/\n/g, '\r'), 'a CR alone'],
    ['a byte order mark', `\uFEFF${taskA()}`, 'a byte order mark'],
    [
      'a tab-only line inside a plain scalar',
      taskA('    cwd: /tmp', '\t', '      /data'),
      'a line that starts with a tab',
    ],
    ['content after ---', `--- {name: p, tasks: [{id: a, type: noop}]}\n`, 'a document marker'],
    ['a document end marker', `${taskA()}...\n`, 'a document marker'],
    [
      'an implicit key over 1024 characters',
      taskA(`    ${'k'.repeat(1100)}: v`),
      'an implicit key of over 1000',
    ],
    ['an escape past U+10FFFF', taskA('    cwd: "\\U00110000"'), 'an escape past the last code point'],
    [
      'an empty list entry',
      taskA('    labels:', '      - - a', '        -', '      - b'),
      'an empty or null list entry',
    ],
    [
      'a block scalar with a trailing line of spaces',
      taskA('    cwd: |', '      /tmp', '   ', '    env: {}'),
      'a block scalar',
    ],
    [
      'a block scalar with a blank line holding a tab',
      taskA('    cwd: |', '      /tmp', '    \t', '      /data'),
      'a block scalar',
    ],
    [
      'a line that starts with a tab, after a block scalar',
      taskA('    cwd: |', '      /tmp', '\t# c'),
      'a tab',
    ],
    [
      'a flow list closed at the indentation of its key',
      taskA('    labels: [', '      a', '    ]'),
      'deficient indentation',
    ],
  ])('given %s, then the fast path gives up', (_, source, reason) => {
    const fast = readYamlFast(source, 64);
    expect(fast.ok).toBe(false);
    if (!fast.ok) expect(fast.reason).toContain(reason);
    expect(parseDag(source)).toEqual(parseDagSlow(source));
  });

  it('given lines of spaces between lines of a script, then the fast path still takes it', () => {
    const source = taskA('    cwd: |', '      cd /tmp', '      ', '      ls', '    env: {A: x}');
    expect(parseDagFast(source)).toEqual(parseDagSlow(source));
  });

  it('given a leading --- line and CRLF line breaks, then the fast path still takes it', () => {
    const source = `# header\r\n---\r\n${taskA('    cwd: "/tmp"').replace(/\n/g, '\r\n')}`;
    expect(parseDagFast(source)).toEqual(parseDagSlow(source));
  });
});
