/**
 * Events of the `workers` stream, written by the scheduler leader as the worker registry changes
 * (etcd leases in a distributed deployment): a worker joined, left on purpose (it drained and
 * said so), or was lost (its lease expired). A lost worker's running attempts are abandoned with
 * kind worker_lost and retried by policy.
 */
import { z } from 'zod';
import { instant } from './metadata.js';

const workerRef = {
  workerId: z.string().min(1).max(200),
  /** The leader's term when it recorded the change. */
  term: z.number().int().nonnegative(),
  at: instant,
};

export const workerEventSchemas = {
  WorkerJoined: z.object({
    ...workerRef,
    capacity: z.number().int().positive(),
    labels: z.array(z.string()),
    version: z.string(),
    host: z.string().optional(),
  }),
  WorkerLeft: z.object(workerRef),
  WorkerLost: z.object({ ...workerRef, reason: z.string().max(1000) }),
};

export type WorkerEvent = {
  [K in keyof typeof workerEventSchemas]: { type: K; data: z.infer<(typeof workerEventSchemas)[K]> };
}[keyof typeof workerEventSchemas];
