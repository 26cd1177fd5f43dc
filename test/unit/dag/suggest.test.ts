import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance, suggestField } from '../../../src/dag/suggest.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['dependecies', 'dependencies', 1],
    ['tiemout', 'timeout', 1], // a transposition is one edit
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('given %s and %s, then the distance is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('given a cap, then it stops early and answers cap + 1', () => {
    expect(editDistance('abcdefgh', 'zzzzzzzz', 2)).toBe(3);
    expect(editDistance('a', 'abcdef', 2)).toBe(3);
  });
});

describe('closestMatch', () => {
  const ids = ['extract', 'transform', 'load'];

  it('given a typo, then the nearest candidate is suggested, ignoring case', () => {
    expect(closestMatch('extrct', ids)).toBe('extract');
    expect(closestMatch('LOAD', ids)).toBe('load');
  });

  it('given something unlike every candidate, then nothing is suggested', () => {
    expect(closestMatch('publish', ids)).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
  });

  it('given an abbreviation of three letters or more, then the abbreviated candidate is suggested', () => {
    expect(closestMatch('trans', ids)).toBe('transform');
    expect(closestMatch('tr', ids)).toBeUndefined();
  });

  it('given a tie, then the first candidate wins', () => {
    expect(closestMatch('ab', ['ac', 'bb'])).toBe('ac');
  });
});

describe('suggestField', () => {
  const known = ['id', 'dependencies', 'retry', 'maxAttempts', 'timeout', 'command'];

  it.each([
    ['depends_on', 'dependencies'],
    ['needs', 'dependencies'],
    ['retries', 'retry'],
    ['max_attempts', 'maxAttempts'],
    ['max-attempts', 'maxAttempts'],
    ['timout', 'timeout'],
    ['cmd', 'command'],
  ])('given %s, then %s is suggested', (unknown, suggestion) => {
    expect(suggestField(unknown, known)).toBe(suggestion);
  });

  it('given a synonym whose target is not accepted here, then it is not suggested', () => {
    expect(suggestField('depends_on', ['id', 'name'])).toBeUndefined();
  });
});
