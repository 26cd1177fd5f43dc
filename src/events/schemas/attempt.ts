/**
 * Events of the `attempt-<runId>-<taskId>-<n>` streams. A worker claims attempt n by appending
 * AttemptStarted as the stream's first event (expected: no stream). Exactly one closing event
 * follows, appended with expected revision 0: the worker's (succeeded / failed, or released when
 * it claimed the attempt ahead of a free slot and no slot freed in time) or the leader's
 * (abandoned, when the worker is lost, the run is cancelled or the deadline passed). Whoever
 * appends second gets a concurrency error, so an attempt is never decided twice (invariant 2).
 */
import { z } from 'zod';
import { failureSchema, instant } from './metadata.js';

const attemptRef = {
  runId: z.string(),
  taskId: z.string(),
  attempt: z.number().int().positive(),
};

/** Size-bounded capture of a stream: its head and tail and how much was written in all. */
export const capturedTextSchema = z.object({
  head: z.string(),
  tail: z.string(),
  totalBytes: z.number().int().nonnegative(),
  truncated: z.boolean(),
});

const outcome = {
  finishedAt: instant,
  durationMs: z.number().nonnegative(),
  exitCode: z.number().int().optional(),
  httpStatus: z.number().int().optional(),
};

export const attemptEventSchemas = {
  AttemptStarted: z.object({
    ...attemptRef,
    workerId: z.string(),
    /** The claim. The attempt started then, unless `startWithinMs` says it may wait for a slot. */
    startedAt: instant,
    /**
     * Claimed ahead of a free slot: the worker starts it within this many ms of `startedAt`, or
     * releases it (AttemptReleased). Absent: it started at `startedAt`.
     */
    startWithinMs: z.number().int().nonnegative().optional(),
  }),
  AttemptSucceeded: z.object({ ...attemptRef, ...outcome, output: z.unknown().optional() }),
  AttemptFailed: z.object({ ...attemptRef, ...outcome, failure: failureSchema }),
  AttemptAbandoned: z.object({
    ...attemptRef,
    failure: failureSchema,
    /** The leader's term, when the leader abandoned it; absent when the worker itself gave up. */
    term: z.number().int().nonnegative().optional(),
    abandonedAt: instant,
  }),
  /**
   * A claimed-ahead attempt handed back unstarted by its worker: nothing of the task ran, so it
   * is not a try (the retry policy does not count it) and the scheduler queues the next attempt.
   */
  AttemptReleased: z.object({ ...attemptRef, releasedAt: instant, reason: z.string().max(500) }),
} as const;

export type AttemptEventType = keyof typeof attemptEventSchemas;
export type AttemptEvent = {
  [K in AttemptEventType]: { readonly type: K; readonly data: z.infer<(typeof attemptEventSchemas)[K]> };
}[AttemptEventType];
