/** From a DAG's normalized task to what an executor runs. */
import type { NormalizedTask } from '../dag/index.js';
import type { ExecutableTask } from './executors/types.js';

export function toExecutableTask(task: NormalizedTask): ExecutableTask {
  switch (task.type) {
    case 'shell':
      return { type: 'shell', command: task.command, env: task.env, cwd: task.cwd ?? undefined };
    case 'python':
      return {
        type: 'python',
        ...(task.source.kind === 'script' ? { script: task.source.path } : { code: task.source.code }),
        args: task.args,
        env: task.env,
        cwd: task.cwd ?? undefined,
      };
    case 'http':
      return {
        type: 'http',
        method: task.method,
        url: task.url,
        headers: task.headers,
        body: task.body ?? undefined,
        expectedStatus: task.expectedStatus,
        env: task.env,
      };
    case 'noop':
      return { type: 'noop' };
    default: {
      const never: never = task;
      throw new Error(`unknown task type ${JSON.stringify(never)}`);
    }
  }
}
