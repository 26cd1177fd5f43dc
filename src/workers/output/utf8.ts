/**
 * UTF-8 cut points. A byte limit can fall inside a multi-byte character; decoding the fragment
 * would yield U+FFFD. These helpers move a cut to the nearest character boundary instead.
 */

/** Whether `byte` is a continuation byte (10xxxxxx). */
function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** Length of the sequence a lead byte announces; 1 for ASCII and for bytes that cannot lead. */
function sequenceLength(lead: number): number {
  if ((lead & 0xe0) === 0xc0) return 2;
  if ((lead & 0xf0) === 0xe0) return 3;
  if ((lead & 0xf8) === 0xf0) return 4;
  return 1;
}

/**
 * The length of the longest prefix of `bytes` that does not end inside a character: an
 * incomplete trailing sequence (at most 3 bytes) is left out. Invalid bytes are kept; the
 * decoder renders them as U+FFFD as it would anyway.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const end = bytes.length;
  // A lead byte of an incomplete sequence is at most 3 bytes before the end.
  for (let i = end - 1; i >= 0 && i >= end - 3; i--) {
    const byte = bytes[i]!;
    if (isContinuation(byte)) continue;
    return i + sequenceLength(byte) > end ? i : end;
  }
  return end;
}

/** Index of the first byte that is not a continuation byte, looking at most 3 bytes in. */
export function skipUtf8Continuation(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && i < 3 && isContinuation(bytes[i]!)) i++;
  return i;
}
