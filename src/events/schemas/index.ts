/**
 * The schema registry: which event types each stream category accepts, and their payloads.
 * Events are validated here, at the edge of the store, on the way in.
 */
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../../errors.js';
import type { NewEvent } from '../types.js';
import { attemptEventSchemas } from './attempt.js';
import { dagEventSchemas } from './dag.js';
import { eventMetadataSchema } from './metadata.js';
import { runEventSchemas } from './run.js';
import { workerEventSchemas } from './worker.js';

export * from './attempt.js';
export * from './dag.js';
export * from './metadata.js';
export * from './run.js';
export * from './worker.js';

/** Stream categories and the events each accepts. Categories not listed here are not checked. */
const categories: Record<string, Record<string, z.ZodType>> = {
  dag: dagEventSchemas,
  run: runEventSchemas,
  attempt: attemptEventSchemas,
  workers: workerEventSchemas,
};

export const streams = {
  dag: (dagId: string) => `dag-${dagId}`,
  run: (runId: string) => `run-${runId}`,
  attempt: (runId: string, taskId: string, attempt: number) => `attempt-${runId}-${taskId}-${attempt}`,
  workers: () => 'workers',
} as const;

/** The category of a stream name: the part before the first `-`. */
export function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

/** Throws ValidationError listing every bad event of the batch; returns the parsed events. */
export function validateEvents(stream: string, events: readonly NewEvent[]): NewEvent[] {
  const schemas = categories[categoryOf(stream)];
  const issues: ValidationIssue[] = [];
  const parsed = events.map((event, index) => {
    const metadata = eventMetadataSchema.safeParse(event.metadata);
    if (!metadata.success) {
      for (const issue of metadata.error.issues) {
        issues.push({
          path: `events[${index}].metadata.${issue.path.join('.')}`,
          message: issue.message,
          kind: 'invalid_metadata',
        });
      }
    }
    if (!schemas) return event;
    const schema = schemas[event.type];
    if (!schema) {
      issues.push({
        path: `events[${index}].type`,
        message: `${event.type} is not an event of ${categoryOf(stream)} streams`,
        kind: 'unknown_event_type',
      });
      return event;
    }
    const data = schema.safeParse(event.data);
    if (!data.success) {
      for (const issue of data.error.issues) {
        issues.push({
          path: `events[${index}].data.${issue.path.join('.')}`,
          message: issue.message,
          kind: 'invalid_event',
        });
      }
      return event;
    }
    return { ...event, data: data.data };
  });
  if (issues.length > 0) {
    throw new ValidationError(`invalid events for stream ${stream}`, issues);
  }
  return parsed;
}
