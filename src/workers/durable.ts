/**
 * Retrying what a worker must not give up on while the store is unreachable: claims, outcomes,
 * releases, and the reads and writes an attempt needs. Only failures that are not answers (a lost
 * connection, a restarting database) are retried; refusals (a lost race, a fenced or invalid
 * append — every DagrunError) are thrown at once.
 */
import { DagrunError } from '../errors.js';
import type { EventStore, ExpectedRevision, NewEvent } from '../events/types.js';
import type { Logger } from '../observability/logger.js';

/**
 * How long a claim, an outcome or a release is retried while the store is unreachable. None may
 * give up early: an append whose answer was lost may have committed (a server stopping
 * mid-commit), and a claim that committed but was dropped would leave an attempt "running" on a
 * live worker until its deadline. Retrying with the same event id ends in an answer: appended, a
 * duplicate (it did commit), or refused (another worker claimed it meanwhile). Past this, the
 * leader's deadline (timeout + grace) abandons the attempt.
 */
export const DURABLE_RETRY_MS = 30 * 60_000;

/**
 * Appends one event, retrying failures that are not answers. The event keeps its id across
 * tries, so a try that did commit before its answer was lost is recognised as a duplicate, not
 * appended twice.
 */
export async function appendDurably(
  store: EventStore,
  log: Logger,
  stream: string,
  event: NewEvent,
  expected: ExpectedRevision,
  /** Stop retrying when this aborts (a claim of a worker that drains). */
  signal?: AbortSignal,
): Promise<void> {
  await durably(log, 'append', () => store.append(stream, [event], expected), signal, { stream });
}

/** Runs `work`, retrying failures that are not answers (the store unreachable) with backoff. */
export async function durably<T>(
  log: Logger,
  what: string,
  work: () => Promise<T>,
  signal?: AbortSignal,
  detail: Record<string, unknown> = {},
): Promise<T> {
  const deadline = performance.now() + DURABLE_RETRY_MS;
  for (let pauseMs = 100; ; pauseMs = Math.min(pauseMs * 2, 5000)) {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DagrunError || performance.now() + pauseMs > deadline || signal?.aborted)
        throw error;
      log.warn(`${what} failed; retrying`, { ...detail, error: String(error), pauseMs });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
