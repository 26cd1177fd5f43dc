/**
 * Python tasks: `<interpreter> <script> args…` or `<interpreter> -c <code> args…`. A relative
 * script resolves against the request's base dir (the DAG file's folder or the configured
 * scripts dir), not the worker's cwd. Templates in `args` render as plain text (argv, no shell);
 * inline code is passed as is — it reads params from `DAGRUN_PARAM_*`, not from templates, as
 * splicing text into code would be the injection the shell executor prevents.
 * `PYTHONUNBUFFERED=1` makes print() reach the logs as it happens; a task's `env` may unset it.
 */
import { isAbsolute, resolve } from 'node:path';
import { renderTemplate } from '../templates.js';
import { type CommandLine, executeProcessTask, type ProcessExecutorOptions } from './process-task.js';
import type { ExecutionRequest, ExecutionResult, PythonTask, TaskExecutor } from './types.js';

/** Runs `python` tasks with the request's interpreter, in their own process group. */
export class PythonExecutor implements TaskExecutor<PythonTask> {
  constructor(private readonly options: ProcessExecutorOptions = {}) {}

  execute(request: ExecutionRequest<PythonTask>): Promise<ExecutionResult> {
    return executeProcessTask(request, pythonCommandLine, this.options);
  }
}

/** The command line for a python task. Throws TemplateError (args) or Error (neither script nor code, or both). */
export function pythonCommandLine(request: ExecutionRequest<PythonTask>): CommandLine {
  const { script, code } = request.task;
  const args = (request.task.args ?? []).map((arg) => renderTemplate(arg, request, 'text'));
  const defaultEnv = { PYTHONUNBUFFERED: '1' };
  if (script !== undefined && code === undefined) {
    const path = isAbsolute(script) ? script : resolve(request.baseDir, script);
    return { file: request.pythonInterpreter, args: [path, ...args], defaultEnv };
  }
  if (code !== undefined && script === undefined) {
    return { file: request.pythonInterpreter, args: ['-c', code, ...args], defaultEnv };
  }
  throw new Error('a python task needs exactly one of "script" and "code"');
}
