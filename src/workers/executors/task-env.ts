/**
 * The environment a shell or Python task sees. It starts nearly empty on purpose: the worker's
 * own environment holds its database URL and other secrets, which a task must not read. Only
 * the variables the runtime passes as `inheritedEnv` (by default PATH and HOME) are kept, then
 * the task's `env`, then dagrun's own variables, which a task's `env` cannot override:
 *
 * - `DAGRUN_RUN_ID`, `DAGRUN_TASK_ID`, `DAGRUN_ATTEMPT`;
 * - `DAGRUN_OUTPUT`: the file the task may write its JSON output to;
 * - `DAGRUN_PARAM_<NAME>`: each run param, as text;
 * - `DAGRUN_UPSTREAM_<TASKID>`: each upstream output as JSON, or, when that JSON is larger than
 *   `maxInlineUpstreamBytes`, `DAGRUN_UPSTREAM_<TASKID>_FILE`, a file holding it — Linux caps one
 *   environment string at 128 KiB and all of them with argv at about 2 MiB.
 *
 * Names are upper-cased and every character outside [A-Z0-9_] becomes `_` (`fetch-data` →
 * `DAGRUN_UPSTREAM_FETCH_DATA`), so that shells can read them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionRequest } from './types.js';

/** Inherited from the worker unless the runtime says otherwise. */
export const defaultInheritedNames = ['PATH', 'HOME'] as const;

/** Used when the runtime passes no PATH, so that `sh` and `python3` are still found. */
export const fallbackPath = '/usr/local/bin:/usr/bin:/bin';

/** 32 KiB: far below the kernel's 128 KiB per string, leaving room for many upstreams. */
export const maxInlineUpstreamBytes = 32 * 1024;

/** Picks the variables a task inherits from the worker's environment (call it at start-up). */
export function inheritedEnv(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[] = defaultInheritedNames,
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of names) {
    const value = env[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}

/** `fetch-data` → `FETCH_DATA`. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** File name fragment for a task id that may hold any characters. */
export function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Where the task writes its output: unique per task and attempt inside `outputDir`. */
export function outputFilePath(request: ExecutionRequest): string {
  return join(request.outputDir, `${fileSafe(request.taskId)}.${request.attempt}.output.json`);
}

/**
 * Builds the environment; writes large upstream outputs to files in `outputDir` (returned so
 * the caller can remove them).
 */
export async function buildTaskEnv(
  request: ExecutionRequest,
  inherited: Readonly<Record<string, string>>,
  taskEnv: Readonly<Record<string, string>> | undefined,
): Promise<{ env: Record<string, string>; files: string[] }> {
  const env: Record<string, string> = { PATH: fallbackPath, ...inherited, ...taskEnv };
  const files: string[] = [];
  for (const [name, value] of Object.entries(request.params)) {
    env[`DAGRUN_PARAM_${envName(name)}`] = String(value);
  }
  for (const [taskId, output] of Object.entries(request.upstream)) {
    const json = JSON.stringify(output ?? null);
    const key = `DAGRUN_UPSTREAM_${envName(taskId)}`;
    if (Buffer.byteLength(json) <= maxInlineUpstreamBytes) {
      env[key] = json;
    } else {
      const file = join(
        request.outputDir,
        `${fileSafe(request.taskId)}.${request.attempt}.upstream.${fileSafe(taskId)}.json`,
      );
      await writeFile(file, json);
      files.push(file);
      env[`${key}_FILE`] = file;
    }
  }
  env['DAGRUN_RUN_ID'] = request.runId;
  env['DAGRUN_TASK_ID'] = request.taskId;
  env['DAGRUN_ATTEMPT'] = String(request.attempt);
  env['DAGRUN_OUTPUT'] = outputFilePath(request);
  return { env, files };
}
