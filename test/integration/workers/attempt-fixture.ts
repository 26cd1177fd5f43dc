/**
 * Builds ExecutionRequests for executor tests: a fresh base dir and output dir per test, short
 * timeouts, and the worker's PATH/HOME as the runtime would pass them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { inheritedEnv } from '../../../src/workers/executors/task-env.js';
import type { ExecutableTask, ExecutionRequest } from '../../../src/workers/executors/types.js';

/** The variables the runtime would pass down (test processes may read their own env). */
export const workerEnv = inheritedEnv(process.env);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A temporary directory removed after the current test. */
export async function tempDir(prefix = 'dagrun-exec-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A request for `task` with test defaults; override any field. */
export async function attemptOf<T extends ExecutableTask>(
  task: T,
  overrides: Partial<ExecutionRequest<T>> = {},
): Promise<ExecutionRequest<T>> {
  return {
    runId: 'run-1',
    taskId: 'task-a',
    attempt: 1,
    task,
    params: {},
    upstream: {},
    timeoutMs: 10_000,
    killGraceMs: 300,
    baseDir: overrides.baseDir ?? (await tempDir()),
    pythonInterpreter: 'python3',
    signal: new AbortController().signal,
    outputDir: overrides.outputDir ?? (await tempDir()),
    ...overrides,
  };
}

/** Whether a process exists and is not a zombie (a zombie has exited; only its entry is left). */
export async function isRunning(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
