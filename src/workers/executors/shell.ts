/**
 * Shell tasks. A command string runs under `/bin/sh -c` with every template value rendered as
 * a single-quoted word, so params cannot inject shell syntax (write `echo {{ params.x }}`, not
 * `echo "{{ params.x }}"`: the quotes would become part of the text). An argv array runs without
 * a shell; each element is rendered as plain text.
 */
import { renderTemplate } from '../templates.js';
import { type CommandLine, executeProcessTask, type ProcessExecutorOptions } from './process-task.js';
import type { ExecutionRequest, ExecutionResult, ShellTask, TaskExecutor } from './types.js';

/** Runs `shell` tasks in their own process group. */
export class ShellExecutor implements TaskExecutor<ShellTask> {
  constructor(private readonly options: ProcessExecutorOptions = {}) {}

  execute(request: ExecutionRequest<ShellTask>): Promise<ExecutionResult> {
    return executeProcessTask(request, shellCommandLine, this.options);
  }
}

/** The command line for a shell task, templates rendered. Throws TemplateError, or Error for an empty argv. */
export function shellCommandLine(request: ExecutionRequest<ShellTask>): CommandLine {
  const { command } = request.task;
  if (typeof command === 'string') {
    return { file: '/bin/sh', args: ['-c', renderTemplate(command, request, 'shell')] };
  }
  const [file, ...args] = command.map((part) => renderTemplate(part, request, 'text'));
  if (file === undefined || file === '') throw new Error('the command array is empty');
  return { file, args };
}
