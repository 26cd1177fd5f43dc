import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  renderJsonTemplate,
  renderTemplate,
  shellQuote,
  TemplateError,
  templateReferences,
} from '../../../src/workers/templates.js';

const context = {
  params: { name: 'world', n: 3, flag: true, tricky: "it's $(x)" },
  upstream: {
    extract: { rows: 10, meta: { path: '/data/a b' }, ids: [4, 5], none: null },
    'load-db': 'plain text',
    empty: null,
  },
};

describe('parseTemplate', () => {
  it('splits text and references, tolerating whitespace', () => {
    expect(parseTemplate('a {{params.x}} b {{  tasks.t-1.output.f.0  }}')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'reference', reference: { kind: 'param', name: 'x' }, source: '{{params.x}}' },
      { kind: 'text', text: ' b ' },
      {
        kind: 'reference',
        reference: { kind: 'taskOutput', taskId: 't-1', path: ['f', '0'] },
        source: '{{  tasks.t-1.output.f.0  }}',
      },
    ]);
  });

  it.each([
    ['{{ params }}'],
    ['{{ params.a.b }}'],
    ['{{ tasks.x }}'],
    ['{{ tasks.x.result }}'],
    ['{{ env.HOME }}'],
    ['{{ tasks.x.output. }}'],
    ['{{ tasks.output }}'],
    ['{{ tasks.a b.output }}'],
    ['{{ params.x'],
  ])('rejects %s', (text) => {
    expect(() => parseTemplate(text)).toThrow(TemplateError);
  });

  it('takes every segment before the first "output" as the task id, since ids may hold dots', () => {
    expect(templateReferences('{{ tasks.extract.users.output.count.0 }}')).toEqual([
      { kind: 'taskOutput', taskId: 'extract.users', path: ['count', '0'] },
    ]);
  });

  it('lists references, e.g. for validating a DAG', () => {
    expect(templateReferences('{{ params.a }}{{ tasks.b.output }}')).toEqual([
      { kind: 'param', name: 'a' },
      { kind: 'taskOutput', taskId: 'b', path: [] },
    ]);
  });
});

describe('renderTemplate', () => {
  it('renders params, outputs and nested fields as text', () => {
    expect(
      renderTemplate(
        '{{ params.name }} {{ params.n }} {{ params.flag }} {{ tasks.extract.output.rows }} ' +
          '{{ tasks.extract.output.ids.1 }} {{ tasks.extract.output.meta }} {{ tasks.load-db.output }} ' +
          '{{ tasks.extract.output.none }}',
        context,
        'text',
      ),
    ).toBe('world 3 true 10 5 {"path":"/data/a b"} plain text null');
  });

  it('quotes every value as one shell word', () => {
    expect(
      renderTemplate('echo {{ params.tricky }} {{ tasks.extract.output.meta.path }}', context, 'shell'),
    ).toBe(`echo 'it'\\''s $(x)' '/data/a b'`);
  });

  it('percent-encodes values in URLs', () => {
    expect(
      renderTemplate('http://h/{{ tasks.extract.output.meta.path }}?q={{ params.tricky }}', context, 'url'),
    ).toBe("http://h/%2Fdata%2Fa%20b?q=it's%20%24(x)");
  });

  it.each([
    ['{{ params.missing }}', /unknown param "missing" \(known: flag, n, name, tricky\)/],
    ['{{ params.constructor }}', /unknown param "constructor"/],
    ['{{ tasks.other.output }}', /"other" is not a finished upstream task/],
    ['{{ tasks.extract.output.nope }}', /tasks\.extract\.output has no field "nope"/],
    ['{{ tasks.extract.output.ids.9 }}', /tasks\.extract\.output\.ids has no field "9"/],
    ['{{ tasks.load-db.output.x }}', /tasks\.load-db\.output has no field "x"/],
    ['{{ tasks.empty.output.x }}', /tasks\.empty\.output has no field "x"/],
    ['{{ tasks.extract.output.meta.toString }}', /has no field "toString"/],
  ])('fails on %s instead of rendering empty', (text, message) => {
    expect(() => renderTemplate(text, context, 'text')).toThrow(message);
  });

  it('leaves text without templates untouched', () => {
    expect(renderTemplate("awk '{print $1}' | jq '.a'", context, 'shell')).toBe("awk '{print $1}' | jq '.a'");
  });
});

describe('renderJsonTemplate', () => {
  it('renders strings anywhere in the value and leaves keys and other types alone', () => {
    expect(
      renderJsonTemplate(
        {
          '{{ params.name }}': ['{{ params.n }}', 1, null, { deep: 'x{{ tasks.extract.output.rows }}' }],
          ok: true,
        },
        context,
      ),
    ).toEqual({ '{{ params.name }}': ['3', 1, null, { deep: 'x10' }], ok: true });
  });
});

describe('shellQuote', () => {
  it('quotes the classic injection as one inert word', () => {
    expect(shellQuote('$(rm -rf /); echo pwned')).toBe("'$(rm -rf /); echo pwned'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('property: the quoted form contains no unquoted shell syntax', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const quoted = shellQuote(text);
        // Splitting on the only escape sequence leaves pieces that are each a single-quoted run.
        const inner = quoted.slice(1, -1).split(`'\\''`);
        expect(inner.join("'")).toBe(text);
        for (const piece of inner) expect(piece).not.toContain("'");
      }),
    );
  });
});
