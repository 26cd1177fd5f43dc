import { z } from 'zod';

/** Metadata every event carries (see EventMetadata in ../types.ts). Extra keys are kept. */
export const eventMetadataSchema = z.looseObject({
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent')
    .optional(),
  actor: z.string().min(1).max(200),
});

/** How a task attempt failed. The retry policy matches on `kind`. */
export const failureKinds = [
  'timeout',
  'exit_code',
  'signal',
  'http_status',
  'network',
  'worker_lost',
  'cancelled',
  'internal',
] as const;
export type FailureKind = (typeof failureKinds)[number];

export const failureSchema = z.object({
  kind: z.enum(failureKinds),
  message: z.string().max(10_000),
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  httpStatus: z.number().int().optional(),
});
export type Failure = z.infer<typeof failureSchema>;

/** ISO-8601 instant, as produced by Date.prototype.toISOString. */
export const instant = z.iso.datetime({ offset: true });
