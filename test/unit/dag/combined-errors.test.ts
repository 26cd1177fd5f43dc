import { describe, expect, it } from 'vitest';
import { MAX_ISSUES, normalizeDagObject, parseDagOrThrow } from '../../../src/dag/index.js';
import { ValidationError } from '../../../src/errors.js';
import { issuesOf, yaml } from './helpers.js';

describe('several problems at once', () => {
  const source = yaml(
    'name: Bad Name', // 1
    'tasks:', // 2
    '  - id: extract', // 3
    '    type: shell', // 4
    '    command: ls', // 5
    '    timeout: forever', // 6
    '  - id: load', // 7
    '    type: http', // 8
    '    url: https://example.com', // 9
    '    method: FETCH', // 10
    '    dependecies: [extract]', // 11
    '    dependencies: [extract, transform]', // 12
  );

  it('given many mistakes, then every one is reported, in the order of the file', () => {
    expect(issuesOf(source).map((i) => [i.kind, i.path, i.line, i.column])).toEqual([
      ['invalid_id', 'name', 1, 7],
      ['invalid_duration', 'tasks[0].timeout', 6, 14],
      ['invalid_value', 'tasks[1].method', 10, 13],
      ['unknown_field', 'tasks[1].dependecies', 11, 5],
      ['unknown_dependency', 'tasks[1].dependencies[1]', 12, 29],
    ]);
  });

  it('given parseDagOrThrow, then the ValidationError lists every issue with file, line and column', () => {
    let error: unknown;
    try {
      parseDagOrThrow(source, { fileName: 'etl.yaml' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.issues).toHaveLength(5);
    expect(validation.status).toBe(400);
    expect(validation.message.split('\n')).toEqual([
      'invalid DAG in etl.yaml (5 problems):',
      "etl.yaml:1:7: name: 'Bad Name' is not a valid DAG name; use 1 to 128 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. 'bad-name') [invalid_id]",
      "etl.yaml:6:14: tasks[0].timeout: 'forever' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms [invalid_duration]",
      "etl.yaml:10:13: tasks[1].method: 'FETCH' is not an HTTP method; use one of GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE [invalid_value]",
      "etl.yaml:11:5: unknown field 'dependecies' in tasks[1]; did you mean 'dependencies'? [unknown_field]",
      "etl.yaml:12:29: tasks[1].dependencies[1]: unknown task 'transform' [unknown_dependency]",
    ]);
  });

  it('given the same mistakes as JSON data, then the same issues come back without line or column', () => {
    const result = normalizeDagObject({
      name: 'Bad Name',
      tasks: [
        { id: 'extract', type: 'shell', command: 'ls', timeout: 'forever' },
        {
          id: 'load',
          type: 'http',
          url: 'https://example.com',
          dependencies: ['extract', 'transform'],
          dependecies: [],
        },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.kind, i.path, i.line, i.column])).toEqual([
      ['invalid_id', 'name', undefined, undefined],
      ['invalid_duration', 'tasks[0].timeout', undefined, undefined],
      ['unknown_field', 'tasks[1].dependecies', undefined, undefined],
      ['unknown_dependency', 'tasks[1].dependencies[1]', undefined, undefined],
    ]);
  });

  it(`given more than ${MAX_ISSUES} problems, then the list is capped and says how many were left out`, () => {
    const lines = ['name: p', 'tasks:'];
    for (let i = 0; i < MAX_ISSUES + 10; i++)
      lines.push(`  - {id: t${i}, type: shell, command: ls, oops: 1}`);
    const issues = issuesOf(yaml(...lines));
    expect(issues).toHaveLength(MAX_ISSUES + 1);
    expect(issues[MAX_ISSUES]).toEqual({
      kind: 'too_many_issues',
      path: '',
      message: '10 more problems were found but are not listed; fix the ones above first',
    });
  });

  it('given 300,000 unknown fields in JSON data, then the report is capped instead of overflowing the stack', () => {
    const spec: Record<string, unknown> = { name: 'p', tasks: [{ id: 'a', type: 'shell', command: 'ls' }] };
    for (let i = 0; i < 300_000; i++) spec[`k${i}`] = 1;
    const result = normalizeDagObject(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(MAX_ISSUES + 1);
    expect(result.issues[0]).toEqual({
      kind: 'unknown_field',
      path: 'k0',
      message: "unknown field 'k0' in the top level",
    });
    expect(result.issues[MAX_ISSUES]!.message).toBe(
      '299000 more problems were found but are not listed; fix the ones above first',
    );
  });
});
