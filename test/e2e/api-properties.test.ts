/**
 * Property tests over real HTTP: whatever the body or query, the API never answers 5xx, and a
 * refusal (4xx) appends nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { helloDag, startTestApi } from '../integration/api/support.js';

const api = await startTestApi({ engine: false });
await api.call('POST', '/api/v1/dags', { yaml: helloDag('prop') });

async function refusesCleanly(method: string, path: string, options: Parameters<typeof api.call>[2]) {
  const before = await api.eventCount();
  const r = await api.call(method, path, options);
  expect(r.status, `${method} ${path} → ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
  if (r.status >= 400) {
    expect(await api.eventCount()).toBe(before);
    expect(r.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  }
  return r.status;
}

const settings = { numRuns: 60 };

describe('POST bodies', () => {
  it('refuses keys that shadow toString or valueOf (found by the property below): 400, nothing appended', async () => {
    for (const body of [{ params: { '': { toString: {} } } }, { params: { who: { valueOf: 1 } } }]) {
      const status = await refusesCleanly('POST', '/api/v1/dags/prop/runs', {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(status).toBe(400);
    }
  });

  it('any JSON as a run request: never 5xx, nothing appended on refusal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ params: fc.dictionary(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
          fc.record(
            { params: fc.record({ who: fc.jsonValue() }), idempotencyKey: fc.jsonValue() },
            { requiredKeys: [] },
          ),
        ),
        async (body) => {
          await refusesCleanly('POST', '/api/v1/dags/prop/runs', {
            body: JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          });
        },
      ),
      settings,
    );
  });

  it('any JSON or text as a DAG: never 5xx, nothing appended on refusal', async () => {
    const task = fc.record(
      {
        id: fc.string(),
        type: fc.constantFrom('shell', 'http', 'python', 'x'),
        command: fc.jsonValue(),
        dependencies: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => ({ json: v })),
          fc.record({ name: fc.string(), tasks: fc.array(task, { maxLength: 4 }) }).map((v) => ({ json: v })),
          fc.string({ maxLength: 300 }).map((v) => ({ yaml: v })),
          fc
            .constantFrom('a: &x [*x]', 'name: [', '!!js/function x', 'tasks:\n  - id: a\n    type: shell\n')
            .map((v) => ({ yaml: v })),
        ),
        async (input) => {
          const options =
            'json' in input
              ? { body: JSON.stringify(input.json), headers: { 'content-type': 'application/json' } }
              : { yaml: input.yaml };
          await refusesCleanly('POST', '/api/v1/dags', options);
        },
      ),
      settings,
    );
  });
});

describe('If-Match', () => {
  it('any If-Match on a conditional write: never 5xx, nothing appended on refusal', async () => {
    const tag = fc.oneof(
      fc.nat({ max: 12 }).map((n) => `"${n}"`),
      fc.nat({ max: 12 }).map((n) => `W/"${n}"`),
      fc.stringMatching(/^[\x21\x23-\x7e]{0,8}$/).map((t) => `"${t}"`),
    );
    const header = fc.oneof(
      fc.constant('*'),
      fc.array(tag, { minLength: 1, maxLength: 3 }).map((tags) => tags.join(', ')),
      fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
    );
    const write = fc.constantFrom(
      { method: 'POST', path: '/api/v1/dags/prop/pause' },
      { method: 'POST', path: '/api/v1/dags/prop/resume' },
      { method: 'POST', path: '/api/v1/dags', yaml: helloDag('prop') },
      { method: 'POST', path: '/api/v1/dags/nope/pause' },
      { method: 'POST', path: '/api/v1/runs/nope/cancel' },
    );
    await fc.assert(
      fc.asyncProperty(write, header, async (w, ifMatch) => {
        const status = await refusesCleanly(w.method, w.path, {
          ...(w.yaml ? { yaml: w.yaml } : {}),
          headers: { 'if-match': ifMatch },
        });
        expect([200, 201, 400, 404, 412]).toContain(status);
      }),
      settings,
    );
  });
});

describe('query parameters', () => {
  it('any values for the list filters: never 5xx', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer().map(String),
      fc.constantFrom('true', 'false', '', '-1', '1e3'),
    );
    const query = fc.dictionary(
      fc.constantFrom(
        'limit',
        'cursor',
        'status',
        'dagId',
        'runId',
        'paused',
        'includeDeleted',
        'category',
        'after',
        'asOf',
      ),
      value,
      { maxKeys: 4 },
    );
    const path = fc.constantFrom(
      '/api/v1/dags',
      '/api/v1/runs',
      '/api/v1/dlq',
      '/api/v1/events',
      '/api/v1/runs/x',
    );
    await fc.assert(
      fc.asyncProperty(path, query, async (p, q) => {
        await refusesCleanly('GET', `${p}?${new URLSearchParams(q)}`, {});
      }),
      settings,
    );
  });
});
