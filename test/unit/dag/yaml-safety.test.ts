import { describe, expect, it } from 'vitest';
import { DEFAULT_YAML_LIMITS, normalizeDagObject, parseDag } from '../../../src/dag/index.js';
import { dagOf, issuesOf, onlyIssue, yaml } from './helpers.js';

const valid = (...extra: string[]) =>
  yaml('name: p', 'tasks:', '  - id: a', '    type: shell', '    command: ls', ...extra);

/** Fails unless `run` finishes within `ms`: hostile input must be refused quickly, not slowly. */
function within<T>(ms: number, run: () => T): T {
  const start = performance.now();
  const result = run();
  expect(performance.now() - start).toBeLessThan(ms);
  return result;
}

describe('YAML 1.2 core schema', () => {
  it('given yes/no/on/off values, then they stay strings (YAML 1.1 would make them booleans)', () => {
    const dag = dagOf(valid('    env:', '      A: yes', '      B: no', '      C: on', '      D: off'));
    expect(dag.tasks[0]!.env).toEqual({ A: 'yes', B: 'no', C: 'on', D: 'off' });
  });

  it('given a %YAML 1.1 directive, then it is refused at its line', () => {
    const issue = onlyIssue(`%YAML 1.1\n---\n${valid()}`);
    expect(issue).toMatchObject({ kind: 'yaml_directive', line: 1, column: 1 });
    expect(issue.message).toBe("YAML directives such as '%YAML 1.1' are not supported; remove the line");
  });
});

describe('refused YAML features', () => {
  it('given a duplicate key, then the second is pointed at and the first one’s line is named', () => {
    const issue = onlyIssue(valid('    command: rm -rf /'));
    expect(issue).toEqual({
      kind: 'yaml_duplicate_key',
      path: 'tasks[0].command',
      line: 6,
      column: 5,
      message: "duplicate key 'command' in tasks[0]; it is first set on line 5",
    });
  });

  it('given keys that differ in YAML but not as JS keys (1 and "1"), then they are duplicates too', () => {
    const issue = onlyIssue(valid('    env:', '      1: a', '      "1": b'));
    expect(issue).toMatchObject({ kind: 'yaml_duplicate_key', line: 8, column: 7 });
  });

  it('given two documents, then the second is refused at its start', () => {
    const issue = onlyIssue(`${valid()}---\n${valid()}`);
    expect(issue).toMatchObject({ kind: 'yaml_multiple_documents', path: '', line: 6, column: 1 });
  });

  it.each([
    [
      'a python object tag',
      '    command: !!python/object/apply:os.system ["ls"]',
      '!!python/object/apply:os.system',
    ],
    ['a local tag', '    command: !shell ls', '!shell'],
    ['a standard tag', '    command: !!str ls', '!!str'],
  ])('given %s, then it is refused', (_, line, shown) => {
    const source = yaml('name: p', 'tasks:', '  - id: a', '    type: shell', line);
    const issue = onlyIssue(source);
    expect(issue).toMatchObject({ kind: 'yaml_tag', path: 'tasks[0].command', line: 5, column: 14 });
    expect(issue.message).toBe(
      `explicit YAML tags such as '${shown}' are not allowed; remove the tag (quote the value to keep it a string)`,
    );
  });

  it('given a tag on a key, then it is refused', () => {
    expect(onlyIssue(valid('    !!str cwd: /tmp')).kind).toBe('yaml_tag');
  });

  it('given a merge key, then it is refused with advice to use defaults', () => {
    const source = yaml('base: &base {timeout: 5m}', 'name: p', 'tasks:', '  - <<: *base', '    id: a');
    const issues = issuesOf(source);
    expect(issues.map((i) => [i.kind, i.line, i.column])).toEqual([['yaml_merge_key', 4, 5]]);
    expect(issues[0]!.message).toBe(
      "merge keys ('<<') are not supported; put shared task settings under 'defaults'",
    );
  });

  it('given a list used as a key, then it is refused', () => {
    const issue = onlyIssue(valid('    ? [a, b]', '    : c'));
    expect(issue).toMatchObject({ kind: 'yaml_complex_key', path: 'tasks[0]', line: 6, column: 7 });
  });

  it('given a syntax error, then the yaml library’s explanation is passed on with its position', () => {
    const issue = issuesOf(yaml('name: p', 'tasks: [a, b', 'x: 1'))[0]!;
    expect(issue.kind).toBe('yaml_syntax');
    expect(issue.message).toMatch(/^YAML syntax error: /);
    expect(issue.line).toBe(3);
  });

  it('given a tab used as indentation, then it is a syntax error at the tab', () => {
    const issue = issuesOf('name: p\ntasks:\n\t- id: a\n')[0]!;
    expect(issue).toMatchObject({ kind: 'yaml_syntax', line: 3, column: 1 });
  });
});

describe('aliases', () => {
  it('given an anchored retry policy shared by aliases, then it is accepted', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: ls, retry: &standard {maxAttempts: 4, backoff: linear}}',
      '  - {id: b, type: shell, command: ls, retry: *standard}',
    );
    expect(dagOf(source).tasks.map((t) => [t.retry.maxAttempts, t.retry.backoff])).toEqual([
      [4, 'linear'],
      [4, 'linear'],
    ]);
  });

  it('given more aliases than maxAliasCount, then the first one over is refused', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: &c ls}',
      '  - {id: b, type: shell, command: *c}',
      '  - {id: c, type: shell, command: *c}',
      '  - {id: d, type: shell, command: *c}',
    );
    expect(dagOf(source, { maxAliasCount: 3 }).tasks).toHaveLength(4);
    const issue = onlyIssue(source, { maxAliasCount: 2 });
    expect(issue).toMatchObject({ kind: 'yaml_alias_limit', path: 'tasks[3].command', line: 6, column: 35 });
  });

  it('given maxAliasCount 0, then any alias is refused', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: &c ls}',
      '  - {id: b, type: shell, command: *c}',
    );
    expect(onlyIssue(source, { maxAliasCount: 0 }).message).toBe(
      'YAML aliases (*name) are not allowed here; write the value out',
    );
  });

  it('given a billion-laughs chain of aliases of aliases, then it is refused quickly', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    lines.push('name: p', 'tasks:', '  - {id: a, type: shell, command: ls, labels: *a9}');
    const issues = within(1000, () => issuesOf(yaml(...lines)));
    expect(issues[0]).toMatchObject({ kind: 'yaml_nested_alias', path: 'a2[0]', line: 3 });
    expect(issues.every((i) => i.kind === 'yaml_nested_alias')).toBe(true);
  });

  it('given an alias inside its own anchor, then it is refused (it would be circular)', () => {
    const issue = issuesOf(yaml('loop: &l [1, *l]', 'name: p'))[0]!;
    expect(issue).toMatchObject({ kind: 'yaml_nested_alias', path: 'loop[1]', line: 1, column: 14 });
  });

  it('given an alias to an undefined anchor, then it is refused', () => {
    const issue = onlyIssue(valid('    cwd: *nowhere'));
    expect(issue).toMatchObject({ kind: 'yaml_unknown_anchor', path: 'tasks[0].cwd', line: 6, column: 10 });
  });

  it('given an anchor on a mapping key, then only aliases after it can use it', () => {
    const task = (...lines: string[]) => yaml('name: p', 'tasks:', '  - id: a', '    type: shell', ...lines);
    expect(dagOf(task('    env: {&c ls: x}', '    command: *c')).tasks[0]).toMatchObject({ command: 'ls' });
    expect(onlyIssue(task('    command: *c', '    env: {&c ls: x}'))).toMatchObject({
      kind: 'yaml_unknown_anchor',
      path: 'tasks[0].command',
      line: 5,
    });
  });

  it('given an alias before its anchor, then it is refused as unknown', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: shell, command: *c}',
      '  - {id: b, type: shell, command: &c ls}',
    );
    expect(onlyIssue(source).kind).toBe('yaml_unknown_anchor');
  });

  it('given a few aliases of one big anchor, then the expansion is refused (more than double the file)', () => {
    const big = Array.from({ length: 2000 }, (_, i) => `l${i}`).join(', ');
    const source = yaml(
      'name: p',
      'tasks:',
      `  - {id: a, type: shell, command: ls, labels: &big [${big}]}`,
      '  - {id: b, type: shell, command: ls, labels: *big}',
      '  - {id: c, type: shell, command: ls, labels: *big}',
    );
    const issue = onlyIssue(source);
    expect(issue.kind).toBe('yaml_alias_limit');
    expect(issue.message).toMatch(
      /^YAML aliases expand the file to \d+ nodes from \d+; aliases may at most double it$/,
    );
  });
});

describe('size and depth limits', () => {
  it('given input over maxBytes, then it is refused before parsing, counting UTF-8 bytes', () => {
    const source = valid(`    description: "${'é'.repeat(600)}"`);
    expect(dagOf(source).tasks).toHaveLength(1);
    expect(source.length).toBeLessThan(1000);
    expect(Buffer.byteLength(source)).toBe(1277);
    const issue = onlyIssue(source, { maxBytes: 1100 });
    expect(issue).toEqual({
      kind: 'input_too_large',
      path: '',
      message: 'the DAG file is 1277 bytes (1.2 KiB); the limit is 1100 bytes (1.1 KiB)',
    });
  });

  it('given the default limit, then a 2 MiB file is refused in no time', () => {
    const source = `name: p\n#${'x'.repeat(2 * 1024 * 1024)}\n`;
    const issue = within(200, () => onlyIssue(source));
    expect(issue.kind).toBe('input_too_large');
    expect(issue.message).toBe(
      `the DAG file is at least ${source.length} bytes (2 MiB); the limit is 1048576 bytes (1 MiB)`,
    );
    expect(DEFAULT_YAML_LIMITS.maxBytes).toBe(1024 * 1024);
  });

  it.each([
    ['flow lists', `x: ${'['.repeat(900_000)}`],
    ['flow mappings', `x: ${'{a: '.repeat(200_000)}`],
    ['block lists', `x:\n  ${'- '.repeat(400_000)}1`],
  ])(
    'given %s nested far too deep, then they are refused quickly and without a stack overflow',
    (_, source) => {
      const issue = within(2000, () => onlyIssue(source));
      expect(issue).toMatchObject({ kind: 'too_deep', line: expect.any(Number), column: expect.any(Number) });
      expect(issue.message).toBe('the YAML is nested more than 64 levels deep; a DAG never needs that many');
    },
  );

  it('given nesting just under maxDepth, then it passes the depth check', () => {
    // Depth: top mapping 1, tasks list 2, task mapping 3, then six nested lists: 9.
    const body = `${'['.repeat(6)}1${']'.repeat(6)}`;
    const source = yaml('name: p', 'tasks:', `  - {id: a, type: http, url: "https://x.io", body: ${body}}`);
    expect(dagOf(source, { maxDepth: 9 }).tasks).toHaveLength(1);
    expect(onlyIssue(source, { maxDepth: 8 })).toMatchObject({ kind: 'too_deep', line: 3, column: 58 });
  });

  it('given 40,000 keys with one duplicate at the end, then exactly that duplicate is reported', () => {
    // The yaml library's own uniqueKeys check compares every key with every other (about 7.5 s
    // here); ours is one pass per mapping. Its speed is measured in bench/, not asserted here.
    const keys = Array.from({ length: 40_000 }, (_, i) => `      K${i}: v`);
    keys.push('      K17: again');
    const source = `name: p\ntasks:\n  - id: a\n    type: shell\n    command: ls\n    env:\n${keys.join('\n')}\n`;
    const result = parseDag(source);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues.map((i) => [i.kind, i.line])).toEqual([['yaml_duplicate_key', 40_007]]);
  });

  it('given JSON data one level too deep, then normalizeDagObject names the path where it happens', () => {
    // Depth: spec 1, tasks 2, task 3, body 4, then 5 and 6.
    const spec = { name: 'p', tasks: [{ id: 'a', type: 'http', url: 'https://x.io', body: [[[1]]] }] };
    expect(normalizeDagObject(spec, { maxDepth: 6 }).ok).toBe(true);
    expect(normalizeDagObject(spec, { maxDepth: 5 })).toEqual({
      ok: false,
      issues: [
        {
          kind: 'too_deep',
          path: 'tasks[0].body[0][0]',
          message: 'the DAG is nested more than 5 levels deep; a DAG never needs that many',
        },
      ],
    });
  });

  it('given deeply nested JSON data, then normalizeDagObject refuses it without recursing', () => {
    let body: unknown = 1;
    for (let i = 0; i < 100_000; i++) body = [body];
    const result = normalizeDagObject({
      name: 'p',
      tasks: [{ id: 'a', type: 'http', url: 'https://x.io', body }],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.kind)).toEqual(['too_deep']);
  });
});
