/** Reading DAG files for the CLI: refuse oversized files before reading them whole. */
import { readFile, stat } from 'node:fs/promises';
import { type NormalizedDag, parseDag } from '../dag/index.js';
import { ValidationError, type ValidationIssue } from '../errors.js';

export type DagFileResult =
  | { readonly file: string; readonly ok: true; readonly dag: NormalizedDag }
  | { readonly file: string; readonly ok: false; readonly issues: readonly ValidationIssue[] };

export async function readDagFile(file: string, maxBytes: number): Promise<DagFileResult> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    return {
      file,
      ok: false,
      issues: [{ path: '', kind: 'unreadable', message: `cannot read ${file}: ${reason}` }],
    };
  }
  if (size > maxBytes) {
    return {
      file,
      ok: false,
      issues: [{ path: '', kind: 'too_large', message: `file is ${size} bytes; the limit is ${maxBytes}` }],
    };
  }
  const result = parseDag(await readFile(file, 'utf8'), { maxBytes, fileName: file });
  return result.ok ? { file, ok: true, dag: result.dag } : { file, ok: false, issues: result.issues };
}

export async function readDagFileOrThrow(file: string, maxBytes: number): Promise<NormalizedDag> {
  const result = await readDagFile(file, maxBytes);
  if (!result.ok) throw new ValidationError(`${file} is not a valid DAG`, result.issues);
  return result.dag;
}
