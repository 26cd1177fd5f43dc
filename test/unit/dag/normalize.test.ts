import { describe, expect, it } from 'vitest';
import { normalizedDagSchema, TASK_DEFAULTS } from '../../../src/dag/index.js';
import { dagOf, onlyIssue, yaml } from './helpers.js';

describe('defaults', () => {
  const source = yaml(
    'name: with-defaults',
    'description: Nightly load',
    'defaults:',
    '  timeout: 10m',
    '  triggerRule: all_done',
    '  env: {REGION: eu, LEVEL: info}',
    '  retry: {maxAttempts: 5, backoff: linear, initialDelay: 2s, maxDelay: 1m, jitter: none, retryOn: [network, timeout]}',
    'tasks:',
    '  - id: inherits',
    '    type: shell',
    '    command: ls',
    '  - id: overrides',
    '    type: shell',
    '    command: [ls, -la]',
    '    timeout: 30s',
    '    triggerRule: one_failed',
    '    env: {LEVEL: debug}',
    '    retry: {maxAttempts: 2, jitter: 0.25}',
    '    dependencies: [inherits, inherits]',
    '    labels: [nightly, etl, nightly]',
  );
  const dag = dagOf(source);
  const [inherits, overrides] = dag.tasks;

  it('given DAG defaults, then a task without its own settings takes them all', () => {
    expect(dag.description).toBe('Nightly load');
    expect(inherits).toMatchObject({
      timeoutMs: 600_000,
      triggerRule: 'all_done',
      env: { REGION: 'eu', LEVEL: 'info' },
      retry: {
        maxAttempts: 5,
        backoff: 'linear',
        initialDelayMs: 2_000,
        maxDelayMs: 60_000,
        jitter: 0,
        retryOn: ['timeout', 'network'],
      },
    });
  });

  it('given a task’s own settings, then they win field by field (env and retry are merged)', () => {
    expect(overrides).toMatchObject({
      timeoutMs: 30_000,
      triggerRule: 'one_failed',
      env: { REGION: 'eu', LEVEL: 'debug' },
      retry: { maxAttempts: 2, backoff: 'linear', initialDelayMs: 2_000, maxDelayMs: 60_000, jitter: 0.25 },
      command: ['ls', '-la'],
    });
  });

  it('given duplicated dependencies and labels, then they are deduplicated and sorted', () => {
    expect(overrides!.dependencies).toEqual(['inherits']);
    expect(overrides!.labels).toEqual(['etl', 'nightly']);
  });

  it('given no defaults at all, then the built-in ones apply', () => {
    const plain = dagOf(yaml('name: p', 'tasks:', '  - {id: a, type: shell, command: ls}')).tasks[0]!;
    expect(plain.timeoutMs).toBe(TASK_DEFAULTS.timeoutMs);
    expect(plain.retry).toEqual({ ...TASK_DEFAULTS.retry, retryOn: [...TASK_DEFAULTS.retry.retryOn] });
    expect(plain.triggerRule).toBe('all_success');
  });
});

describe('task types', () => {
  it('given inline python code and args, then the source is code', () => {
    const dag = dagOf(
      yaml('name: p', 'tasks:', '  - {id: a, type: python, code: "print(1)", args: [--x, "2"], cwd: /srv}'),
    );
    expect(dag.tasks[0]).toMatchObject({
      source: { kind: 'code', code: 'print(1)' },
      args: ['--x', '2'],
      cwd: '/srv',
    });
  });

  it('given an http task, then the method is upper-cased and statuses become merged ranges', () => {
    const source = yaml(
      'name: p',
      'tasks:',
      '  - id: a',
      '    type: http',
      '    method: patch',
      '    url: https://api.example.com/items/{{ params.id }}',
      '    headers: {Content-Type: application/json}',
      '    body: {name: x, tags: [1, 2]}',
      '    expectedStatus: [404, 2xx, 201, 3xx]',
    );
    expect(dagOf(source).tasks[0]).toMatchObject({
      method: 'PATCH',
      url: 'https://api.example.com/items/{{ params.id }}',
      headers: { 'Content-Type': 'application/json' },
      body: { name: 'x', tags: [1, 2] },
      expectedStatus: [
        { min: 200, max: 399 },
        { min: 404, max: 404 },
      ],
    });
  });

  it('given a single expected status, then it is a one-status range', () => {
    const dag = dagOf(
      yaml(
        'name: p',
        'tasks:',
        '  - {id: a, type: http, url: "http://x.io", expectedStatus: 204, body: raw}',
      ),
    );
    expect(dag.tasks[0]).toMatchObject({
      method: 'GET',
      expectedStatus: [{ min: 204, max: 204 }],
      body: 'raw',
    });
  });

  it('given a body with .inf, then it is refused (JSON cannot carry it)', () => {
    const issue = onlyIssue(
      yaml('name: p', 'tasks:', '  - {id: a, type: http, url: "http://x.io", body: {n: .inf}}'),
    );
    expect([issue.kind, issue.path]).toEqual(['invalid_value', 'tasks[0].body']);
  });
});

describe('params', () => {
  it('given full and shorthand params, then types are inferred and required follows the default', () => {
    const source = yaml(
      'name: p',
      'params:',
      '  region: eu-west-1',
      '  retries: 3',
      '  dry_run: {default: false, description: Only print}',
      '  date: {type: string}',
      '  token:',
      'tasks:',
      '  - {id: a, type: shell, command: ls}',
    );
    expect(dagOf(source).params).toEqual({
      date: { type: 'string', default: null, description: null, required: true },
      dry_run: { type: 'boolean', default: false, description: 'Only print', required: false },
      region: { type: 'string', default: 'eu-west-1', description: null, required: false },
      retries: { type: 'number', default: 3, description: null, required: false },
      token: { type: 'string', default: null, description: null, required: true },
    });
  });
});

describe('the stored form', () => {
  it('given a rich DAG, then the normalized form passes the stored-spec schema', () => {
    const source = yaml(
      'name: rich',
      'params: {when: today}',
      'tasks:',
      '  - {id: a, type: shell, command: ls, description: first, labels: [x]}',
      '  - {id: b, type: python, script: b.py, dependencies: [a]}',
      '  - {id: c, type: http, method: post, url: "https://x.io", body: [1, {a: null}], dependencies: [a, b]}',
    );
    const dag = dagOf(source);
    expect(normalizedDagSchema.safeParse(dag).success).toBe(true);
    expect(dag.downstream).toEqual({ a: ['b', 'c'], b: ['c'], c: [] });
  });

  it('given a stored spec with an unknown field, then the schema refuses it', () => {
    const dag = dagOf(yaml('name: p', 'tasks:', '  - {id: a, type: shell, command: ls}'));
    expect(normalizedDagSchema.safeParse({ ...dag, extra: 1 }).success).toBe(false);
    expect(normalizedDagSchema.safeParse({ ...dag, tasks: [] }).success).toBe(false);
  });
});
