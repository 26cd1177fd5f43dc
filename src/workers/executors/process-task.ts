/**
 * What shell and Python tasks share: build the environment, run the process group, turn the
 * outcome into an ExecutionResult and read `$DAGRUN_OUTPUT`. The two executors only differ in
 * how they build the command line.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { type CaptureLimits, defaultCaptureLimits, emptyCapture } from '../output/bounded-capture.js';
import { TemplateError } from '../templates.js';
import type { GroupTracker } from './group-reaper.js';
import { readOutputFile } from './output-file.js';
import { type ProcessOutcome, runInProcessGroup } from './process-group.js';
import { buildTaskEnv, fileSafe, outputFilePath } from './task-env.js';
import type { ExecutionRequest, ExecutionResult, Failure, PythonTask, ShellTask } from './types.js';
import { boundedFailure, defaultMaxOutputBytes } from './types.js';

/** Settings shared by the process executors; the runtime builds them once from config. */
export interface ProcessExecutorOptions {
  /** Variables tasks inherit from the worker; see `inheritedEnv`. Default: none but a fallback PATH. */
  readonly inheritedEnv?: Readonly<Record<string, string>>;
  readonly capture?: CaptureLimits;
  /** Largest accepted `$DAGRUN_OUTPUT` file. */
  readonly maxOutputBytes?: number;
  /**
   * Told when each task's process group starts and ends, so that the groups die with the worker.
   * Default: the process's `processGroupReaper`; the runtime has nothing to set.
   */
  readonly reaper?: GroupTracker;
}

/** A command line, and the variables a task type adds under the task's own `env`. */
export interface CommandLine {
  readonly file: string;
  readonly args: readonly string[];
  readonly defaultEnv?: Readonly<Record<string, string>>;
}

/** Resolves a task's `cwd` against the request's base dir; the base dir itself when absent. */
export function resolveCwd(request: ExecutionRequest, cwd: string | undefined): string {
  if (cwd === undefined || cwd === '') return request.baseDir;
  return isAbsolute(cwd) ? cwd : resolve(request.baseDir, cwd);
}

/**
 * Builds the command line with `build` and runs it. A command line that cannot be built (a
 * template that does not resolve, an empty argv) and any unexpected error become an `internal`
 * failure: the executor resolves for every outcome.
 */
export async function executeProcessTask<T extends ShellTask | PythonTask>(
  request: ExecutionRequest<T>,
  build: (request: ExecutionRequest<T>) => CommandLine,
  options: ProcessExecutorOptions,
): Promise<ExecutionResult> {
  const started = performance.now();
  let command: CommandLine;
  try {
    command = build(request);
  } catch (error) {
    const prefix = error instanceof TemplateError ? 'template: ' : 'invalid task: ';
    return failedBeforeStart(prefix + (error as Error).message, started);
  }
  try {
    return await runProcessTask(request, command, request.task, options);
  } catch (error) {
    return failedBeforeStart(`${request.task.type} executor: ${(error as Error).message}`, started);
  }
}

/** Runs `command`; never rejects for a task failure. */
export async function runProcessTask(
  request: ExecutionRequest,
  command: CommandLine,
  task: { readonly env?: Readonly<Record<string, string>> | undefined; readonly cwd?: string | undefined },
  options: ProcessExecutorOptions,
): Promise<ExecutionResult> {
  const started = performance.now();
  const outputPath = outputFilePath(request);
  // A file left by an earlier attempt with the same path must not pass for this one's output.
  await rm(outputPath, { force: true });
  const { env, files } = await buildTaskEnv(request, options.inheritedEnv ?? {}, {
    ...command.defaultEnv,
    ...task.env,
  });
  try {
    const outcome = await runInProcessGroup(
      { file: command.file, args: command.args, cwd: resolveCwd(request, task.cwd), env },
      {
        timeoutMs: request.timeoutMs,
        killGraceMs: request.killGraceMs,
        signal: request.signal,
        capture: options.capture ?? defaultCaptureLimits,
        onChunk: request.onChunk,
        pipeDir: request.outputDir,
        pipePrefix: `${fileSafe(request.taskId)}.${request.attempt}`,
        reaper: options.reaper,
      },
    );
    const base = {
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      ...(outcome.exitCode !== undefined && { exitCode: outcome.exitCode }),
    };
    const failure = processFailure(outcome, request);
    if (failure) {
      return {
        status: 'failed',
        failure: boundedFailure(failure),
        ...base,
        durationMs: performance.now() - started,
      };
    }
    const read = await readOutputFile(outputPath, options.maxOutputBytes ?? defaultMaxOutputBytes);
    const durationMs = performance.now() - started;
    return read.ok
      ? { status: 'succeeded', output: read.output, ...base, durationMs }
      : {
          status: 'failed',
          failure: boundedFailure({ kind: 'internal', message: read.message }),
          ...base,
          durationMs,
        };
  } finally {
    await Promise.all([outputPath, ...files].map((file) => rm(file, { force: true })));
  }
}

/** The failure an outcome stands for, or undefined for a clean exit 0. */
function processFailure(outcome: ProcessOutcome, request: ExecutionRequest): Failure | undefined {
  const detail = {
    ...(outcome.exitCode !== undefined && { exitCode: outcome.exitCode }),
    ...(outcome.signal !== undefined && { signal: outcome.signal }),
  };
  if (outcome.stopped !== undefined) {
    switch (outcome.stopped) {
      case 'timeout':
        return {
          kind: 'timeout',
          message: `timed out after ${request.timeoutMs} ms; process group killed`,
          ...detail,
        };
      case 'cancelled':
        return { kind: 'cancelled', message: 'cancelled; process group killed', ...detail };
      default:
        return assertNever(outcome.stopped);
    }
  }
  if (outcome.spawnError !== undefined) {
    return { kind: 'internal', message: `could not start the task: ${outcome.spawnError}` };
  }
  if (outcome.signal !== undefined) {
    return { kind: 'signal', message: `killed by ${outcome.signal}`, ...detail };
  }
  if (outcome.exitCode !== 0) {
    return { kind: 'exit_code', message: `exited with code ${outcome.exitCode}`, ...detail };
  }
  return undefined;
}

/** An attempt that failed before anything ran (e.g. a template did not render). */
export function failedBeforeStart(message: string, started: number): ExecutionResult {
  return {
    status: 'failed',
    failure: boundedFailure({ kind: 'internal', message }),
    stdout: emptyCapture,
    stderr: emptyCapture,
    durationMs: performance.now() - started,
  };
}

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}
