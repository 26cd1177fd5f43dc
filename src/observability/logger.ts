/**
 * JSON logs with correlation ids. A correlation context (AsyncLocalStorage) follows the async
 * work of one command, run, task or attempt; every line logged inside it carries its ids without
 * the caller passing them along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

/** Ids that tie a log line to the work it belongs to. */
export interface CorrelationContext {
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly runId?: string;
  readonly taskId?: string;
  readonly attempt?: number;
  readonly dagId?: string;
  readonly [key: string]: unknown;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Runs `fn` with `context` merged over the current one. */
export function withCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

export function currentCorrelation(): CorrelationContext {
  return storage.getStore() ?? {};
}

/** Explicit fields of a log call win over the ambient context. */
const addCorrelation = winston.format((info) => {
  for (const [key, value] of Object.entries(currentCorrelation())) {
    if (!(key in info) && value !== undefined) info[key] = value;
  }
  return info;
});

export interface LoggerOptions {
  readonly level?: 'error' | 'warn' | 'info' | 'debug';
  readonly format?: 'json' | 'pretty';
  /** The component that logs: `cli`, `scheduler`, `worker`, … */
  readonly component?: string;
  /** Where lines go; stderr by default so stdout stays for command output. */
  readonly stream?: NodeJS.WritableStream;
  /** Append to this file instead of writing to a stream. */
  readonly file?: string;
}

export type Logger = winston.Logger;

export function createLogger(options: LoggerOptions = {}): Logger {
  const format =
    options.format === 'pretty'
      ? winston.format.combine(addCorrelation(), winston.format.timestamp(), winston.format.simple())
      : winston.format.combine(addCorrelation(), winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: options.level ?? 'info',
    format,
    defaultMeta: options.component ? { component: options.component } : undefined,
    transports: [
      options.file
        ? new winston.transports.File({ filename: options.file })
        : new winston.transports.Stream({ stream: options.stream ?? process.stderr }),
    ],
  });
}
