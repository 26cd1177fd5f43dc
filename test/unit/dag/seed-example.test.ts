import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  canonicalJson,
  normalizeDagObject,
  normalizedDagSchema,
  parseDag,
  parseDagOrThrow,
} from '../../../src/dag/index.js';

const seedPath = new URL('../../../examples/data-pipeline.yaml', import.meta.url);
const seed = readFileSync(seedPath, 'utf8');

const DEFAULT_RETRY_ON = ['timeout', 'exit_code', 'signal', 'http_status', 'network', 'worker_lost'];
const defaultRetry = {
  maxAttempts: 1,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 300_000,
  jitter: 1,
  retryOn: DEFAULT_RETRY_ON,
};

const expectedSeed = {
  schemaVersion: 1,
  name: 'data-pipeline',
  description: null,
  params: {},
  tasks: [
    {
      id: 'extract',
      type: 'shell',
      description: null,
      dependencies: [],
      timeoutMs: 300_000,
      retry: defaultRetry,
      env: {},
      triggerRule: 'all_success',
      labels: [],
      command: 'curl -o /tmp/data.json https://api.example.com/data',
      cwd: null,
    },
    {
      id: 'transform',
      type: 'python',
      description: null,
      dependencies: ['extract'],
      timeoutMs: 3_600_000,
      retry: { ...defaultRetry, maxAttempts: 3 },
      env: {},
      triggerRule: 'all_success',
      labels: [],
      source: { kind: 'script', path: 'transform.py' },
      args: [],
      cwd: null,
    },
    {
      id: 'load',
      type: 'http',
      description: null,
      dependencies: ['transform'],
      timeoutMs: 3_600_000,
      retry: defaultRetry,
      env: {},
      triggerRule: 'all_success',
      labels: [],
      method: 'POST',
      url: 'https://warehouse.example.com/ingest',
      headers: {},
      body: null,
      expectedStatus: [{ min: 200, max: 299 }],
    },
  ],
  topologicalOrder: ['extract', 'transform', 'load'],
  downstream: { extract: ['transform'], transform: ['load'], load: [] },
};

describe('the seed example (examples/data-pipeline.yaml)', () => {
  it('given the seed file, when parsed, then every default is filled in', () => {
    const result = parseDag(seed, { fileName: 'data-pipeline.yaml' });
    expect(result).toEqual({ ok: true, dag: expectedSeed });
  });

  it('given the normalized seed, then it is plain JSON that the stored-spec schema accepts unchanged', () => {
    const dag = parseDagOrThrow(seed);
    expect(JSON.parse(JSON.stringify(dag))).toStrictEqual(dag);
    expect(normalizedDagSchema.parse(dag)).toStrictEqual(dag);
  });

  it('given the same spec as JSON data, when normalized, then the result is identical', () => {
    const fromJson = normalizeDagObject(JSON.parse(JSON.stringify(parse(seed))));
    expect(fromJson).toEqual({ ok: true, dag: expectedSeed });
  });

  it('given the seed reformatted (flow style, keys reordered), then its canonical JSON is unchanged', () => {
    const reordered = `
tasks:
  - {type: http, id: load, url: "https://warehouse.example.com/ingest", method: post, dependencies: [transform, transform]}
  - {dependencies: [extract], retry: {backoff: exponential, maxAttempts: 3}, script: transform.py, type: python, id: transform}
  - {timeout: 300000, command: "curl -o /tmp/data.json https://api.example.com/data", type: shell, id: extract}
name: data-pipeline
`;
    const a = parseDagOrThrow(seed);
    const b = parseDagOrThrow(reordered);
    // Declaration order is part of the spec (it breaks ties), so compare per task.
    const byId = (dag: typeof a) => Object.fromEntries(dag.tasks.map((task) => [task.id, task]));
    expect(canonicalJson(byId(b))).toBe(canonicalJson(byId(a)));
    expect(b.topologicalOrder).toEqual(['extract', 'transform', 'load']);
  });
});
