/**
 * The executors, and one that routes a request to the right one by task type. The runtime
 * builds a `TaskTypeRouter` once at start-up from config and calls `execute` per attempt.
 */
import { type CaptureLimits, emptyCapture } from '../output/bounded-capture.js';
import { HttpExecutor } from './http.js';
import { PythonExecutor } from './python.js';
import { ShellExecutor } from './shell.js';
import type {
  ExecutableTask,
  ExecutionRequest,
  ExecutionResult,
  HttpTask,
  PythonTask,
  ShellTask,
  TaskExecutor,
} from './types.js';

export { HttpExecutor, type HttpExecutorOptions } from './http.js';
export type { ProcessExecutorOptions } from './process-task.js';
export { PythonExecutor } from './python.js';
export { ShellExecutor } from './shell.js';
export { defaultInheritedNames, inheritedEnv } from './task-env.js';
export * from './types.js';

/** Settings for all executors. */
export interface ExecutorOptions {
  /** Variables shell and Python tasks inherit from the worker; see `inheritedEnv`. */
  readonly inheritedEnv?: Readonly<Record<string, string>>;
  readonly capture?: CaptureLimits;
  readonly maxOutputBytes?: number;
}

/** Dispatches each request to the executor of its task's type. */
export class TaskTypeRouter implements TaskExecutor {
  private readonly shell: TaskExecutor<ShellTask>;
  private readonly python: TaskExecutor<PythonTask>;
  private readonly http: TaskExecutor<HttpTask>;

  constructor(options: ExecutorOptions = {}) {
    this.shell = new ShellExecutor(options);
    this.python = new PythonExecutor(options);
    this.http = new HttpExecutor(options);
  }

  execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const task: ExecutableTask = request.task;
    switch (task.type) {
      case 'shell':
        return this.shell.execute({ ...request, task });
      case 'python':
        return this.python.execute({ ...request, task });
      case 'http':
        return this.http.execute({ ...request, task });
      case 'noop':
        return Promise.resolve({
          status: 'succeeded',
          output: null,
          stdout: emptyCapture,
          stderr: emptyCapture,
          durationMs: 0,
        });
      default:
        return assertNever(task);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown task type: ${JSON.stringify(value)}`);
}
