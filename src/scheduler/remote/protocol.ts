/**
 * The wire format between workers and the scheduler leader's dispatch endpoint (HTTP long-poll,
 * JSON). Both sides validate what they receive with these schemas; a worker authenticates with
 * the cluster token as a bearer token.
 *
 *   POST /v1/poll   {worker, credits, waitMs, pollId, discarded}   → {term, items, cancel}
 *   POST /v1/leave  {workerId}                  → {}
 *   GET  /v1/status                             → {term, backlog, activeRuns, workers}
 *
 * A scheduler that does not lead answers 503 with `{leader}` (the address it knows, if any).
 * A worker not in the registry (its lease lost, or not yet seen) gets 409 `not_registered`.
 */
import { z } from 'zod';
import { normalizedTaskSchema } from '../../dag/normalized.js';
import type { PollResult } from '../work-source.js';

export const workerInfoSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
  capacity: z.number().int().min(1).max(10_000),
  labels: z.array(z.string().min(1).max(100)).max(100),
});

const pollId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export const pollRequestSchema = z.object({
  worker: workerInfoSchema,
  credits: z.number().int().min(0).max(10_000),
  waitMs: z.number().int().min(0).max(60_000),
  /** Names this poll, so the worker can later say it never read the answer. */
  pollId,
  /**
   * Polls this worker gave up on (it aborted them to poll again at once): whatever their answers
   * carried never reached it, and goes back to the dispatcher.
   */
  discarded: z.array(pollId).max(100).default([]),
});
export type PollRequest = z.input<typeof pollRequestSchema>;

const attemptRefSchema = z.object({
  runId: z.string(),
  taskId: z.string(),
  attempt: z.number().int().positive(),
});

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const workItemSchema = z.object({
  ...attemptRefSchema.shape,
  dagId: z.string(),
  dagVersion: z.number().int(),
  task: normalizedTaskSchema,
  labels: z.array(z.string()),
  params: z.record(z.string(), scalar),
  upstream: z.record(z.string(), z.number().int()),
  term: z.number().int(),
  /** The dispatch span's W3C traceparent, when the leader traces: the attempt span's parent. */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
});

export const pollResponseSchema = z.object({
  term: z.number().int(),
  items: z.array(workItemSchema),
  cancel: z.array(attemptRefSchema),
});
/** What the server sends (the schema's output is assignable to it, so the client gets the same). */
export interface PollResponse extends PollResult {
  readonly term: number;
}

export const leaveRequestSchema = z.object({ workerId: workerInfoSchema.shape.id });

export const statusResponseSchema = z.object({
  term: z.number().int(),
  backlog: z.number().int(),
  budget: z.number().int(),
  activeRuns: z.number().int(),
  workers: z.array(z.string()),
});
export type StatusResponse = z.infer<typeof statusResponseSchema>;

/** Largest request body the dispatch endpoint reads. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Longest long-poll a worker may ask for. */
export const MAX_WAIT_MS = 60_000;
