/** Events of the `dag-<dagId>` streams, written by commands only. */
import { z } from 'zod';
import { normalizedDagSchema } from '../../dag/index.js';
import { instant } from './metadata.js';

export const dagEventSchemas = {
  DagRegistered: z.object({ dagId: z.string(), registeredAt: instant }),
  DagVersionPublished: z.object({
    dagId: z.string(),
    version: z.number().int().positive(),
    /** sha256 of the canonical JSON of `spec`; equal hashes mean an unchanged DAG. */
    specHash: z.string().regex(/^[0-9a-f]{64}$/),
    spec: normalizedDagSchema,
    publishedAt: instant,
  }),
  DagPaused: z.object({ dagId: z.string(), reason: z.string().max(1000).optional(), pausedAt: instant }),
  DagResumed: z.object({ dagId: z.string(), resumedAt: instant }),
  DagDeleted: z.object({ dagId: z.string(), deletedAt: instant }),
} as const;

export type DagEventType = keyof typeof dagEventSchemas;
export type DagEvent = {
  [K in DagEventType]: { readonly type: K; readonly data: z.infer<(typeof dagEventSchemas)[K]> };
}[DagEventType];
