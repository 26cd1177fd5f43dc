import { describe, expect, it } from 'vitest';
import { issuesOf, onlyIssue, taskA, yaml } from './helpers.js';

describe('unknown fields', () => {
  it('given a misspelt task field, then it is named with the closest known field, at the key', () => {
    expect(onlyIssue(taskA('    dependecies: []'))).toEqual({
      kind: 'unknown_field',
      path: 'tasks[0].dependecies',
      line: 6,
      column: 5,
      message: "unknown field 'dependecies' in tasks[0]; did you mean 'dependencies'?",
    });
  });

  it('given snake_case or another tool’s name for a field, then the camelCase field is suggested', () => {
    const issues = issuesOf(taskA('    retry:', '      max_attempts: 3', '    depends_on: [b]'));
    expect(issues.map((i) => [i.path, i.line, i.column, i.message])).toEqual([
      [
        'tasks[0].retry.max_attempts',
        7,
        7,
        "unknown field 'max_attempts' in tasks[0].retry; did you mean 'maxAttempts'?",
      ],
      ['tasks[0].depends_on', 8, 5, "unknown field 'depends_on' in tasks[0]; did you mean 'dependencies'?"],
    ]);
  });

  it('given a field of another task type, then the message says which type it belongs to', () => {
    const issue = onlyIssue(taskA('    url: https://example.com'));
    expect(issue.message).toBe(
      "unknown field 'url' in tasks[0]; 'url' is a field of http tasks, and this task's type is 'shell'",
    );
    expect([issue.line, issue.column]).toEqual([6, 5]);
  });

  it('given an unknown top-level field and no tasks, then both are reported', () => {
    const issues = issuesOf(yaml('name: p', 'task:', '  - id: a'));
    expect(issues.map((i) => [i.kind, i.path, i.line, i.column])).toEqual([
      ['empty_dag', 'tasks', 1, 1],
      ['unknown_field', 'task', 2, 1],
    ]);
    expect(issues[1]!.message).toBe("unknown field 'task' in the top level; did you mean 'tasks'?");
  });

  it('given a field far from every known one, then no suggestion is made', () => {
    expect(onlyIssue(taskA('    zzzzzz: 1')).message).toBe("unknown field 'zzzzzz' in tasks[0]");
  });
});

describe('wrong types and values', () => {
  it('given a timeout that is not a duration, then the message says how to write one', () => {
    expect(onlyIssue(taskA('    timeout: 5 minutes'))).toEqual({
      kind: 'invalid_duration',
      path: 'tasks[0].timeout',
      line: 6,
      column: 14,
      message: "tasks[0].timeout: '5 minutes' is not a duration; use e.g. 30s, 5m, 1h30m or 250ms",
    });
  });

  it('given a zero timeout, then it is refused (a task needs some time)', () => {
    const issue = onlyIssue(taskA('    timeout: 0s'));
    expect([issue.kind, issue.message]).toEqual(['invalid_value', 'tasks[0].timeout: must be longer than 0']);
  });

  it('given a text where a number belongs, then the path goes down to the field', () => {
    expect(onlyIssue(taskA('    retry:', '      maxAttempts: three'))).toEqual({
      kind: 'invalid_type',
      path: 'tasks[0].retry.maxAttempts',
      line: 7,
      column: 20,
      message: "tasks[0].retry.maxAttempts: expected a number, got 'three'",
    });
  });

  it('given maxAttempts 0, then it must be at least 1', () => {
    const issue = onlyIssue(taskA('    retry: {maxAttempts: 0}'));
    expect([issue.kind, issue.path, issue.message]).toEqual([
      'invalid_value',
      'tasks[0].retry.maxAttempts',
      'tasks[0].retry.maxAttempts: must be at least 1, got 0',
    ]);
  });

  it('given an abbreviated enum value, then the full value is suggested', () => {
    const issue = onlyIssue(taskA('    retry: {backoff: expo}'));
    expect(issue.message).toBe(
      "tasks[0].retry.backoff: 'expo' is not allowed; use one of exponential, linear, fixed; did you mean 'exponential'?",
    );
  });

  it('given an env value that YAML read as a number, then the advice is to quote it', () => {
    const issue = onlyIssue(taskA('    env:', '      PORT: 8080'));
    expect(issue).toMatchObject({ kind: 'invalid_type', path: 'tasks[0].env.PORT', line: 7, column: 13 });
    expect(issue.message).toBe(
      "tasks[0].env.PORT: expected a string, got 8080; put it in quotes ('8080') to keep it as text",
    );
  });

  it('given an env name that is not a variable name, then the key is pointed at', () => {
    const issue = onlyIssue(taskA('    env:', '      bad-name: x'));
    expect(issue).toMatchObject({
      kind: 'invalid_value',
      path: 'tasks[0].env["bad-name"]',
      line: 7,
      column: 7,
    });
  });

  it('given __proto__ as an env name, then it is refused rather than silently dropped', () => {
    const issue = onlyIssue(taskA('    env:', '      __proto__: x'));
    expect(issue).toMatchObject({
      kind: 'invalid_value',
      path: 'tasks[0].env.__proto__',
      line: 7,
      column: 7,
    });
    expect(issue.message).toBe("tasks[0].env: '__proto__' cannot be used as an environment variable name");
  });

  it('given an upper-case task id, then the rule is stated with a fixed-up example', () => {
    const issue = onlyIssue(
      yaml('name: p', 'tasks:', '  - id: Extract Data', '    type: shell', '    command: ls'),
    );
    expect(issue).toMatchObject({ kind: 'invalid_id', path: 'tasks[0].id', line: 3, column: 9 });
    expect(issue.message).toBe(
      "tasks[0].id: 'Extract Data' is not a valid task id; use 1 to 128 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. 'extract-data')",
    );
  });

  it('given an unknown task type, then the closest type is suggested', () => {
    const issue = onlyIssue(yaml('name: p', 'tasks:', '  - id: a', '    type: bash', '    command: ls'));
    expect(issue).toMatchObject({ kind: 'invalid_value', path: 'tasks[0].type', line: 4, column: 11 });
    expect(issue.message).toBe(
      "tasks[0].type: 'bash' is not a task type; use one of shell, python, http, noop; did you mean 'shell'?",
    );
  });

  it('given an unknown task type, then the rest of the task is still checked', () => {
    const issues = issuesOf(
      yaml('name: p', 'tasks:', '  - id: a', '    type: htp', '    timeout: soon', '    urll: x'),
    );
    expect(issues.map((i) => [i.kind, i.path])).toEqual([
      ['invalid_value', 'tasks[0].type'],
      ['invalid_duration', 'tasks[0].timeout'],
      ['unknown_field', 'tasks[0].urll'],
    ]);
  });

  it('given an http task without a url, then the missing field is reported at the task', () => {
    const issue = onlyIssue(yaml('name: p', 'tasks:', '  - id: a', '    type: http'));
    expect(issue).toEqual({
      kind: 'missing_field',
      path: 'tasks[0].url',
      line: 3,
      column: 5,
      message: "missing required field 'url' in tasks[0]",
    });
  });

  it('given a non-http URL or a malformed one, then each is refused; placeholders are allowed', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: http, url: "ftp://example.com/x"}',
      '  - {id: b, type: http, url: "not a url"}',
      '  - {id: c, type: http, url: "https://{{ params.host }}:{{ params.port }}/x?q={{ params.q }}"}',
      '  - {id: d, type: http, url: "{{ params.base_url }}/ingest"}',
      '  - {id: e, type: http, url: "https://example.com/{{ params.x"}',
    );
    const issues = issuesOf(source);
    expect(issues.map((i) => [i.kind, i.path, i.line])).toEqual([
      ['invalid_url', 'tasks[0].url', 3],
      ['invalid_url', 'tasks[1].url', 4],
      ['invalid_url', 'tasks[4].url', 7],
    ]);
    expect(issues[0]!.message).toBe("tasks[0].url: 'ftp://example.com/x' must use http or https, not ftp");
  });

  it('given a python task with both script and code, or neither, then each is reported', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - {id: a, type: python, script: a.py, code: "print(1)"}',
      '  - {id: b, type: python, args: [x]}',
    );
    const issues = issuesOf(source);
    expect(issues.map((i) => [i.kind, i.path, i.line])).toEqual([
      ['conflicting_fields', 'tasks[0].code', 3],
      ['missing_field', 'tasks[1].script', 4],
    ]);
  });

  it('given an initial retry delay longer than the maximum, then the conflict is reported once per place', () => {
    const source = yaml(
      'name: p',
      'defaults:',
      '  retry: {initialDelay: 10m}',
      'tasks:',
      '  - {id: a, type: shell, command: ls}',
      '  - {id: b, type: shell, command: ls}',
      '  - {id: c, type: shell, command: ls, retry: {maxDelay: 1s, initialDelay: 2s}}',
    );
    const issues = issuesOf(source);
    expect(issues.map((i) => [i.kind, i.path, i.line])).toEqual([
      ['conflicting_fields', 'defaults.retry.initialDelay', 3],
      ['conflicting_fields', 'tasks[2].retry.initialDelay', 7],
    ]);
    expect(issues[0]!.message).toBe(
      'defaults.retry.initialDelay: the first retry delay (10m) is longer than the longest allowed (maxDelay 5m)',
    );
  });

  it('given params with a mistyped default or a required param with a default, then both are reported', () => {
    const source = yaml(
      'name: p',
      'params:',
      '  retries: {type: number, default: many}',
      '  region: {required: true, default: eu}',
      '  bad-name: 1',
      'tasks:',
      '  - {id: a, type: shell, command: ls}',
    );
    const issues = issuesOf(source);
    expect(issues.map((i) => [i.kind, i.path, i.line])).toEqual([
      ['invalid_type', 'params.retries.default', 3],
      ['conflicting_fields', 'params.region.required', 4],
      ['invalid_value', 'params["bad-name"]', 5],
    ]);
  });
});
