/**
 * Bounded capture of a task's stdout or stderr. A task may print gigabytes; the worker keeps
 * only the first `headBytes` and the last `tailBytes` and counts the rest, so memory stays
 * constant however much is written. Chunks are copied into two fixed buffers as they arrive
 * (the tail is a ring), never concatenated, so the cost per chunk is one bounded memcpy.
 */
import { completeUtf8Length, skipUtf8Continuation } from './utf8.js';

/**
 * What was captured of one stream. When `truncated` is false, `head + tail` is the whole text;
 * when it is true, the bytes between them were dropped (`totalBytes` still counts them).
 * Same shape as `capturedTextSchema` in the attempt events.
 */
export interface CapturedText {
  readonly head: string;
  readonly tail: string;
  readonly totalBytes: number;
  readonly truncated: boolean;
}

/** How much of a stream to keep. */
export interface CaptureLimits {
  /** Bytes kept from the start. */
  readonly headBytes: number;
  /** Bytes kept from the end. */
  readonly tailBytes: number;
}

/** 64 KiB at each end: enough for a stack trace at the bottom and the banner at the top. */
export const defaultCaptureLimits: CaptureLimits = { headBytes: 64 * 1024, tailBytes: 64 * 1024 };

/** An empty capture, for streams a task type does not have (e.g. stderr of an HTTP call). */
export const emptyCapture: CapturedText = { head: '', tail: '', totalBytes: 0, truncated: false };

const decoder = new TextDecoder('utf-8');

/** Accumulates one stream into a head, a ring-buffered tail and a byte count. */
export class BoundedCapture {
  private readonly head: Buffer;
  private headLength = 0;
  private readonly ring: Buffer;
  /** Next write position in `ring`. */
  private ringPos = 0;
  /** Bytes written past the head in all; the ring holds the last min(this, ring size) of them. */
  private afterHead = 0;

  constructor(limits: CaptureLimits = defaultCaptureLimits) {
    if (!(limits.headBytes >= 0 && limits.tailBytes >= 0))
      throw new RangeError('capture limits must be >= 0');
    this.head = Buffer.alloc(limits.headBytes);
    this.ring = Buffer.alloc(limits.tailBytes);
  }

  /** Total bytes written so far. */
  get totalBytes(): number {
    return this.headLength + this.afterHead;
  }

  /** Appends a chunk; the chunk is not retained. */
  write(chunk: Uint8Array): void {
    let offset = 0;
    if (this.headLength < this.head.length) {
      const n = Math.min(chunk.length, this.head.length - this.headLength);
      this.head.set(chunk.subarray(0, n), this.headLength);
      this.headLength += n;
      offset = n;
    }
    const rest = chunk.length - offset;
    if (rest === 0) return;
    this.afterHead += rest;
    const size = this.ring.length;
    if (size === 0) return;
    // Only the last `size` bytes of this chunk can survive in the ring.
    let from = offset + Math.max(0, rest - size);
    while (from < chunk.length) {
      const n = Math.min(chunk.length - from, size - this.ringPos);
      this.ring.set(chunk.subarray(from, from + n), this.ringPos);
      this.ringPos = (this.ringPos + n) % size;
      from += n;
    }
  }

  /** The capture so far, decoded as UTF-8 without splitting a character at either cut. */
  snapshot(): CapturedText {
    const totalBytes = this.totalBytes;
    const size = this.ring.length;
    const truncated = this.afterHead > size;
    const headBytes = this.head.subarray(0, this.headLength);
    // Ring contents in write order.
    const kept = Math.min(this.afterHead, size);
    const tailBytes =
      kept < size
        ? this.ring.subarray(0, kept)
        : Buffer.concat([this.ring.subarray(this.ringPos), this.ring.subarray(0, this.ringPos)]);

    const headEnd = completeUtf8Length(headBytes);
    if (!truncated) {
      // Nothing was dropped: a character cut by the head limit moves whole into the tail.
      const carried = Buffer.concat([headBytes.subarray(headEnd), tailBytes]);
      return {
        head: decoder.decode(headBytes.subarray(0, headEnd)),
        tail: decoder.decode(carried),
        totalBytes,
        truncated,
      };
    }
    const tailStart = skipUtf8Continuation(tailBytes);
    return {
      head: decoder.decode(headBytes.subarray(0, headEnd)),
      tail: decoder.decode(tailBytes.subarray(tailStart)),
      totalBytes,
      truncated,
    };
  }
}

/** Which output stream a chunk came from. */
export type OutputStreamName = 'stdout' | 'stderr';

/**
 * Receives every chunk as it arrives, e.g. to persist logs. Called synchronously on the reading
 * path, so it must not block and must bound its own memory; the chunk must be copied if kept.
 */
export type OutputSink = (stream: OutputStreamName, chunk: Uint8Array) => void;
