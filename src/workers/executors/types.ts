/**
 * The contract between the worker runtime and the code that runs one attempt of one task.
 * An executor never throws for a task's own failure: it returns a typed `Failure` the retry
 * policy can match on. It throws only for a bug in the caller (e.g. a task of the wrong type).
 */
import type { Failure } from '../../events/schemas/metadata.js';
import type { CapturedText, OutputSink } from '../output/bounded-capture.js';

export type { Failure };

/**
 * The task definitions an executor needs, structurally. Kept minimal on purpose so that the
 * DAG module's normalized task type is assignable to it.
 */
export interface ShellTask {
  readonly type: 'shell';
  /** A string run by `/bin/sh -c`, or an argv array run without a shell. */
  readonly command: string | readonly string[];
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** Working directory; relative to the request's `baseDir`. */
  readonly cwd?: string | undefined;
}

export interface PythonTask {
  readonly type: 'python';
  /** A script path, relative to the request's `baseDir` unless absolute. */
  readonly script?: string | undefined;
  /** Inline code, run with `-c`. Exactly one of `script` and `code` is set. */
  readonly code?: string | undefined;
  readonly args?: readonly string[] | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly cwd?: string | undefined;
}

/** An accepted status: one code, or an inclusive range. */
export type StatusMatcher = number | { readonly min: number; readonly max: number };

export interface HttpTask {
  readonly type: 'http';
  readonly method?: string | undefined;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Sent as is when a string; as JSON (with a JSON content type unless one is set) otherwise. */
  readonly body?: unknown;
  /** Statuses that count as success; 200–299 when absent or empty. */
  readonly expectedStatus?: readonly StatusMatcher[] | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
}

/** Does nothing and succeeds with no output. */
export interface NoopTask {
  readonly type: 'noop';
}

/** Any task an executor can run. */
export type ExecutableTask = ShellTask | PythonTask | HttpTask | NoopTask;

/** Everything one attempt needs. The runtime resolves timeouts and paths before calling. */
export interface ExecutionRequest<T extends ExecutableTask = ExecutableTask> {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly task: T;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** Parsed output of each finished upstream task, by task id. */
  readonly upstream: Readonly<Record<string, unknown>>;
  /** The whole attempt's budget, from spawn (or request) to result. */
  readonly timeoutMs: number;
  /** Between SIGTERM and SIGKILL of the process group. */
  readonly killGraceMs: number;
  /** Where relative scripts and working directories resolve: the DAG file's folder or a scripts dir. */
  readonly baseDir: string;
  /** Python interpreter, looked up on PATH when not absolute (e.g. `python3`). */
  readonly pythonInterpreter: string;
  /** Aborting it cancels the attempt (failure kind `cancelled`). */
  readonly signal: AbortSignal;
  /** A temporary directory owned by the runtime; the task's output file is created in it. */
  readonly outputDir: string;
  /** Optional sink for every stdout/stderr chunk, e.g. to persist logs. */
  readonly onChunk?: OutputSink | undefined;
}

interface ResultCommon {
  readonly stdout: CapturedText;
  readonly stderr: CapturedText;
  readonly durationMs: number;
  readonly exitCode?: number;
  readonly httpStatus?: number;
}

/** How an attempt ended. */
export type ExecutionResult =
  | (ResultCommon & { readonly status: 'succeeded'; readonly output: unknown })
  | (ResultCommon & { readonly status: 'failed'; readonly failure: Failure });

/** Runs one attempt. Resolves with a result for every task outcome; never rejects for those. */
export interface TaskExecutor<T extends ExecutableTask = ExecutableTask> {
  execute(request: ExecutionRequest<T>): Promise<ExecutionResult>;
}

/** 1 MiB: an output travels in events and into downstream tasks' environments. */
export const defaultMaxOutputBytes = 1024 * 1024;

/**
 * Longest failure message kept. The event schema allows 10 000 characters; a message is a
 * summary (it may quote a command line, a body or a parse error), the captures hold the detail.
 */
export const maxFailureMessageChars = 2_000;

/** `failure` with its message cut to `maxFailureMessageChars`. */
export function boundedFailure(failure: Failure): Failure {
  if (failure.message.length <= maxFailureMessageChars) return failure;
  return { ...failure, message: `${failure.message.slice(0, maxFailureMessageChars - 1)}…` };
}
