import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedCapture } from '../../../src/workers/output/bounded-capture.js';
import { completeUtf8Length, skipUtf8Continuation } from '../../../src/workers/output/utf8.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** Writes `data` in chunks of the given sizes (cycled), as a pipe would deliver it. */
function captureOf(
  data: Uint8Array,
  headBytes: number,
  tailBytes: number,
  chunkSizes: number[] = [data.length || 1],
) {
  const capture = new BoundedCapture({ headBytes, tailBytes });
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    capture.write(data.subarray(at, at + size));
    at += size;
  }
  return capture.snapshot();
}

describe('BoundedCapture', () => {
  it('keeps everything when the stream fits', () => {
    expect(captureOf(bytes('hello world'), 4, 100, [3])).toEqual({
      head: 'hell',
      tail: 'o world',
      totalBytes: 11,
      truncated: false,
    });
    expect(new BoundedCapture().snapshot()).toEqual({ head: '', tail: '', totalBytes: 0, truncated: false });
  });

  it('keeps the head and the tail and counts what was dropped', () => {
    const data = bytes('AAAA' + 'x'.repeat(1000) + 'ZZZZ');
    expect(captureOf(data, 4, 4, [7, 1, 300])).toEqual({
      head: 'AAAA',
      tail: 'ZZZZ',
      totalBytes: 1008,
      truncated: true,
    });
  });

  it('keeps the last bytes when one chunk is larger than the tail', () => {
    expect(captureOf(bytes('0123456789abcdef'), 2, 3)).toMatchObject({
      head: '01',
      tail: 'def',
      truncated: true,
    });
  });

  it('never splits a character at the head cut or the tail cut', () => {
    // "é" is 2 bytes, "€" 3, "🙂" 4: every limit below falls inside one of them.
    const data = bytes('é€🙂' + '-'.repeat(50) + '🙂€é');
    for (let limit = 1; limit <= 9; limit++) {
      const { head, tail } = captureOf(data, limit, limit, [1]);
      expect(head).not.toContain('\uFFFD');
      expect(tail).not.toContain('\uFFFD');
      expect(Buffer.byteLength(head)).toBeLessThanOrEqual(limit);
      expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(limit);
      expect(data.toString().startsWith(head)).toBe(true);
      expect(data.toString().endsWith(tail)).toBe(true);
    }
  });

  it('moves a character cut by the head limit into the tail when nothing was dropped', () => {
    expect(captureOf(bytes('a€b'), 2, 10)).toEqual({
      head: 'a',
      tail: '€b',
      totalBytes: 5,
      truncated: false,
    });
  });

  it('property: head + tail is the whole text when it fits, else a prefix and a suffix', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.nat(40),
        fc.nat(40),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }),
        (text, headBytes, tailBytes, chunks) => {
          const data = bytes(text);
          const captured = captureOf(data, headBytes, tailBytes, chunks);
          expect(captured.totalBytes).toBe(data.length);
          expect(captured.truncated).toBe(data.length > headBytes + tailBytes);
          if (!captured.truncated) {
            expect(captured.head + captured.tail).toBe(text);
          } else {
            expect(text.startsWith(captured.head)).toBe(true);
            expect(text.endsWith(captured.tail)).toBe(true);
            // At most 3 bytes of a cut character are lost at each end.
            expect(Buffer.byteLength(captured.head)).toBeGreaterThan(headBytes - 4);
            expect(Buffer.byteLength(captured.tail)).toBeGreaterThan(tailBytes - 4);
          }
        },
      ),
    );
  });
});

describe('UTF-8 cut points', () => {
  it('leaves an incomplete trailing sequence out', () => {
    const euro = bytes('€'); // e2 82 ac
    expect(completeUtf8Length(euro)).toBe(3);
    expect(completeUtf8Length(euro.subarray(0, 2))).toBe(0);
    expect(completeUtf8Length(Buffer.concat([bytes('ab'), euro.subarray(0, 1)]))).toBe(2);
    expect(completeUtf8Length(bytes('ab🙂'))).toBe(6);
  });

  it('skips leading continuation bytes', () => {
    expect(skipUtf8Continuation(bytes('€x').subarray(1))).toBe(2);
    expect(skipUtf8Continuation(bytes('x'))).toBe(0);
  });
});
