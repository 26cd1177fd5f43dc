/** Small pieces the event handlers share. */

/** Statuses after which a task never changes again (unless a DLQ retry reopens it). */
export const TERMINAL_TASK_STATUSES = [
  'succeeded',
  'dead_lettered',
  'upstream_failed',
  'skipped',
  'cancelled',
] as const;

/** Run statuses that end a run (a DLQ retry can still reopen a failed one). */
export const FINISHED_RUN_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;

/** The largest output (as JSON text) an `attempts` row keeps; bigger ones become a stub. */
export const MAX_OUTPUT_JSON_CHARS = 64 * 1024;

/** A value as the JSON text a jsonb parameter needs. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/**
 * An attempt's output as stored: itself when its JSON fits the bound, else a stub that says so.
 * The whole output stays in the event log (and, for downstream tasks, in the scheduler's hands);
 * the read model keeps list queries and the API light.
 */
export function boundedOutput(output: unknown): string {
  const text = json(output);
  if (text.length <= MAX_OUTPUT_JSON_CHARS) return text;
  return json({ truncated: true, jsonChars: text.length, preview: text.slice(0, 1024) });
}

/** The run id of a `run-<runId>` stream; undefined for any other stream. */
export function runIdOfStream(stream: string): string | undefined {
  return stream.startsWith('run-') ? stream.slice('run-'.length) : undefined;
}

/** The id of a DLQ item: one per dead-lettered attempt. */
export function dlqItemId(runId: string, taskId: string, attempt: number): string {
  return `${runId}:${taskId}:${attempt}`;
}

/** The `default` of an exhaustive switch: unreachable while every case is handled. */
export function assertNever(value: never): never {
  throw new Error(`unexpected event ${JSON.stringify(value)}`);
}
