/**
 * parseDag reads valid input on a fast path (js-yaml) and everything else on the located path
 * (the `yaml` library). These tests hold the two to the same result: on generated DAG documents,
 * and scalar by scalar for the YAML 1.2 core schema. What the fast path leaves to the located path
 * is in fast-path-fallback.test.ts.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDag } from '../../../src/dag/index.js';
import { parseDagFast, parseDagSlow } from '../../../src/dag/parse-dag.js';
import { readYamlFast } from '../../../src/dag/yaml-fast-path.js';
import { readYaml } from '../../../src/dag/yaml-safety.js';
import { dagTree, layout, trickyScalar } from './arbitrary-dag-yaml.js';
import { yamlText } from './arbitrary-yaml-text.js';
import { taskA, yaml } from './helpers.js';
import { renderDocument, replaceScalars } from './yaml-tree.js';

const validDocument = fc.tuple(dagTree, layout).map(([tree, how]) => renderDocument(tree, how));

/** The fast path's value for `source`, or why it gave up; and what the located reader made of it. */
function bothReaders(source: string) {
  const fast = readYamlFast(source, 64);
  const slow = readYaml(source);
  return { fast, slow: slow.ok ? { ok: true, value: slow.value } : { ok: false } };
}

describe('the fast path, against the located path', () => {
  it('given any valid DAG document, then the fast path takes it and builds the same DAG', () => {
    fc.assert(
      fc.property(validDocument, (source) => {
        const slow = parseDagSlow(source);
        expect(slow.ok, JSON.stringify(slow)).toBe(true);
        const fast = parseDagFast(source);
        expect(fast, source).toEqual(slow);
        expect(parseDag(source)).toEqual(slow);
      }),
      { numRuns: 100 },
    );
  });

  it('given tricky scalars anywhere in a DAG, then parseDag always returns what the located path does', () => {
    // Tricky scalars replace values at random: many documents become invalid, some fall back.
    const withTricky = fc
      .tuple(dagTree, layout, fc.array(fc.tuple(fc.nat(), trickyScalar), { minLength: 1, maxLength: 4 }))
      .map(([tree, how, swaps]) => renderDocument(replaceScalars(tree, swaps), how));
    fc.assert(
      fc.property(withTricky, (source) => {
        expect(parseDag(source), source).toEqual(parseDagSlow(source));
      }),
      { numRuns: 100 },
    );
  });

  it('given any YAML-shaped text, then whatever the fast reader accepts, the located reader reads alike', () => {
    // The differential test that found the cases in fast-path-fallback.test.ts, kept as a guard.
    const depth = fc.oneof(fc.constant(64), fc.integer({ min: 1, max: 6 }));
    fc.assert(
      fc.property(yamlText, depth, (source, maxDepth) => {
        const fast = readYamlFast(source, maxDepth);
        if (!fast.ok) return;
        const slow = readYaml(source, { maxDepth });
        expect(slow.ok ? { ok: true, value: slow.value } : slow, JSON.stringify(source)).toEqual(fast);
      }),
      { numRuns: 1000 },
    );
  });

  it.each(['data-pipeline.yaml', 'fan-out-fan-in.yaml', 'dead-letter.yaml'])(
    'given the example %s, then the fast path takes it and builds the same DAG',
    (file) => {
      const source = readFileSync(new URL(`../../../examples/${file}`, import.meta.url), 'utf8');
      const slow = parseDagSlow(source);
      expect(slow.ok).toBe(true);
      expect(parseDagFast(source)).toEqual(slow);
    },
  );

  it('given the 10,000-task benchmark DAG shape in small, then the fast path takes it', () => {
    const source = yaml(
      '---',
      'name: bench-small',
      'defaults:',
      '  timeout: 10m',
      'tasks:',
      '  - id: task-00000',
      '    type: shell',
      '    command: echo 0',
      '  - id: task-00001',
      '    type: noop',
      '    dependencies: [task-00000]',
    );
    expect(parseDagFast(source).ok).toBe(true);
  });
});

describe('plain scalars: YAML 1.2 core resolution in both libraries', () => {
  // Where js-yaml agrees with the `yaml` library, the fast path reads the scalar itself.
  it.each([
    ['42', 42],
    ['-17', -17],
    ['+12', 12],
    ['012', 12],
    ['0o17', 15],
    ['0x1F', 31],
    ['0xff', 255],
    ['3.25', 3.25],
    ['1.', 1],
    ['.5', 0.5],
    ['1e3', 1000],
    ['-1.5E+3', -1500],
    ['-0.0', -0],
    ['.inf', Number.POSITIVE_INFINITY],
    ['-.Inf', Number.NEGATIVE_INFINITY],
    ['.NaN', Number.NaN],
    ['~', null],
    ['null', null],
    ['NULL', null],
    ['true', true],
    ['True', true],
    ['FALSE', false],
    ['yes', 'yes'],
    ['no', 'no'],
    ['on', 'on'],
    ['Off', 'Off'],
    ['y', 'y'],
    ['1_000', '1_000'],
    ['0o8', '0o8'],
    ['1:30', '1:30'],
    ['2001-01-01', '2001-01-01'],
    ['tRUE', 'tRUE'],
    ['0x', '0x'],
  ])('given %j, then both read %s and the fast path takes it', (text, expected) => {
    const { fast, slow } = bothReaders(`v: ${text}\n`);
    expect(slow).toEqual({ ok: true, value: { v: expected } });
    expect(fast).toEqual({ ok: true, value: { v: expected } });
  });

  // Where they differ, the fast path gives up and the located path decides.
  it.each([
    ['0b101', 'a string to yaml, 5 to js-yaml (YAML 1.1 binary)'],
    ['-0x1F', 'a string to yaml, -31 to js-yaml (a sign before 0x)'],
    ['+0o17', 'a string to yaml, 15 to js-yaml (a sign before 0o)'],
    ['-0', '-0 to yaml, 0 to js-yaml'],
    ['-.5', '-0.5 to yaml, a string to js-yaml (a sign before a leading dot)'],
    ['+.5e1', '5 to yaml, a string to js-yaml'],
    ['1e400', 'Infinity to yaml, a string to js-yaml'],
    [`1${'0'.repeat(400)}`, 'Infinity to yaml, a string to js-yaml'],
    [`0x${'F'.repeat(300)}`, 'Infinity to yaml, a string to js-yaml'],
  ])('given %j (%s), then the fast path gives up', (text) => {
    const { fast } = bothReaders(`v: ${text}\n`);
    expect(fast).toEqual({ ok: false, reason: 'a plain scalar that js-yaml reads differently' });
    expect(parseDag(taskA(`    env: {A: ${text}}`))).toEqual(parseDagSlow(taskA(`    env: {A: ${text}}`)));
  });

  it('given quoted numbers and keywords, then they are strings in both', () => {
    const { fast, slow } = bothReaders(`a: "1"\nb: '0x1F'\nc: "true"\nd: '~'\ne: "-0"\n`);
    expect(fast).toEqual(slow);
    expect(fast).toEqual({ ok: true, value: { a: '1', b: '0x1F', c: 'true', d: '~', e: '-0' } });
  });
});
