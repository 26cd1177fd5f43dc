/**
 * Small tools for the coordination tests: observables collected into arrays, promises whose state
 * can be looked at, conditions waited for with generous timeouts (never timing assertions).
 */
import { randomUUID } from 'node:crypto';
import type { Observable, Subscription } from 'rxjs';
import { vi } from 'vitest';
import type { WorkerRecord } from '../../../src/coordination/types.js';

export interface Collected<T> {
  readonly values: T[];
  readonly errors: unknown[];
  readonly subscription: Subscription;
}

export function collect<T>(observable: Observable<T>): Collected<T> {
  const values: T[] = [];
  const errors: unknown[] = [];
  const subscription = observable.subscribe({
    next: (value) => values.push(value),
    error: (error: unknown) => errors.push(error),
  });
  return { values, errors, subscription };
}

export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly state: 'pending' | 'fulfilled' | 'rejected';
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Follows a promise's state without leaving its rejection unhandled. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: { -readonly [K in keyof Tracked<T>]: Tracked<T>[K] } = {
    promise,
    state: 'pending',
    value: undefined,
    error: undefined,
  };
  promise.then(
    (value) => {
      tracked.state = 'fulfilled';
      tracked.value = value;
    },
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `check` to pass; generous, since CI machines are loaded. */
export function eventually<T>(check: () => T | Promise<T>, timeout = 15_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 20 });
}

/** Resolves with the promise's value, or fails the test after `timeout` (a hang, not a timing). */
export async function within<T>(promise: Promise<T>, timeout = 15_000, what = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeout} ms`)), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A prefix of its own for each test, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `/dagrun-test/${randomUUID()}/`;
}

export function workerRecord(id: string, extra: Partial<WorkerRecord> = {}): WorkerRecord {
  return { id, capacity: 2, labels: ['linux'], version: '0.1.0-test', ...extra };
}
