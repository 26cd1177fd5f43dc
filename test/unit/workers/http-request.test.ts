import { describe, expect, it } from 'vitest';
import {
  bodyOutput,
  isJsonContentType,
  renderHttpRequest,
  statusAccepted,
} from '../../../src/workers/executors/http-request.js';

describe('statusAccepted', () => {
  it('accepts 2xx by default', () => {
    expect([199, 200, 204, 299, 300, 404].map((s) => statusAccepted(s, undefined))).toEqual([
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(statusAccepted(201, [])).toBe(true);
  });

  it('accepts listed codes and inclusive ranges only', () => {
    const expected = [404, { min: 200, max: 202 }];
    expect([200, 202, 203, 404, 410].map((s) => statusAccepted(s, expected))).toEqual([
      true,
      true,
      false,
      true,
      false,
    ]);
  });
});

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/problem+json', true],
    ['APPLICATION/JSON', true],
    ['text/plain', false],
    ['application/jsonp', false],
    [undefined, false],
  ])('%s → %s', (type, expected) => {
    expect(isJsonContentType(type)).toBe(expected);
  });
});

describe('bodyOutput', () => {
  it('parses JSON bodies, treats an empty JSON body as null and keeps text as text', () => {
    expect(bodyOutput(Buffer.from('{"a":1}'), 7, 100, 'application/json')).toEqual({
      ok: true,
      output: { a: 1 },
    });
    expect(bodyOutput(Buffer.alloc(0), 0, 100, 'application/json')).toEqual({ ok: true, output: null });
    expect(bodyOutput(Buffer.from('{"a":1}'), 7, 100, 'text/plain')).toEqual({ ok: true, output: '{"a":1}' });
  });

  it('refuses invalid JSON and bodies over the limit', () => {
    expect(bodyOutput(Buffer.from('{'), 1, 100, 'application/json')).toMatchObject({ ok: false });
    expect(bodyOutput(Buffer.from('12345'), 500, 100, 'text/plain')).toEqual({
      ok: false,
      message: 'the response body is 500 bytes, over the 100-byte output limit',
    });
  });
});

describe('renderHttpRequest', () => {
  const context = { params: { q: 'a&b' }, upstream: {} };

  it('defaults to GET without a body', () => {
    expect(renderHttpRequest({ type: 'http', url: 'http://h/x' }, context)).toEqual({
      method: 'GET',
      url: new URL('http://h/x'),
      headers: {},
      body: undefined,
    });
  });

  it('sends a string body as is and keeps a content type the task set', () => {
    const rendered = renderHttpRequest(
      {
        type: 'http',
        url: 'http://h/',
        method: 'put',
        headers: { 'Content-Type': 'text/csv' },
        body: { q: '{{ params.q }}' },
      },
      context,
    );
    expect(rendered).toMatchObject({
      method: 'PUT',
      headers: { 'Content-Type': 'text/csv' },
      body: '{"q":"a&b"}',
    });
    expect(
      renderHttpRequest({ type: 'http', url: 'http://h/', body: 'q={{ params.q }}' }, context).body,
    ).toBe('q=a&b');
  });

  it('throws for a URL that does not parse', () => {
    expect(() => renderHttpRequest({ type: 'http', url: '{{ params.q }}' }, context)).toThrow(TypeError);
  });
});
