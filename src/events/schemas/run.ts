/**
 * Events of the `run-<runId>` streams. Commands write RunRequested and RunCancelRequested (and,
 * later, DLQ retries); the scheduler leader writes the decisions, each carrying its term.
 */
import { z } from 'zod';
import { failureSchema, instant } from './metadata.js';

const taskRef = { taskId: z.string(), attempt: z.number().int().positive() };
/** The election revision of the scheduler leader that took a decision. */
const term = z.number().int().nonnegative();

export const paramValue = z.union([z.string(), z.number(), z.boolean()]);

export const runEventSchemas = {
  RunRequested: z.object({
    runId: z.string(),
    dagId: z.string(),
    dagVersion: z.number().int().positive(),
    /** Every declared param, defaults filled in. */
    params: z.record(z.string(), paramValue),
    idempotencyKey: z.string().max(200).optional(),
    requestedAt: instant,
  }),
  TaskQueued: z.object({ ...taskRef, term, queuedAt: instant }),
  TaskSkipped: z.object({ taskId: z.string(), term, reason: z.string() }),
  /** A trigger rule can no longer hold because upstream tasks failed. */
  TaskUpstreamFailed: z.object({ taskId: z.string(), term }),
  TaskRetryScheduled: z.object({ ...taskRef, term, failure: failureSchema, retryAt: instant }),
  TaskDeadLettered: z.object({ ...taskRef, term, failure: failureSchema, deadLetteredAt: instant }),
  /** A dead-lettered task retried from the DLQ: a new attempt, its downstream back to pending. */
  TaskRequeued: z.object({ taskId: z.string(), requeuedAt: instant }),
  /** A dead-letter item closed without a retry; the task stays dead-lettered. */
  DeadLetterDiscarded: z.object({
    taskId: z.string(),
    attempt: z.number().int().positive(),
    discardedAt: instant,
  }),
  RunCancelRequested: z.object({ reason: z.string().max(1000).optional(), requestedAt: instant }),
  RunSucceeded: z.object({ term, finishedAt: instant }),
  RunFailed: z.object({ term, finishedAt: instant, deadLettered: z.array(z.string()) }),
  RunCancelled: z.object({ term, finishedAt: instant }),
} as const;

export type RunEventType = keyof typeof runEventSchemas;
export type RunEvent = {
  [K in RunEventType]: { readonly type: K; readonly data: z.infer<(typeof runEventSchemas)[K]> };
}[RunEventType];

export type ParamValue = z.infer<typeof paramValue>;
