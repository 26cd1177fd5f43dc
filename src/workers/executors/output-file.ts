/**
 * Reads the JSON a task wrote to `$DAGRUN_OUTPUT`. The contract is strict: no file (or an empty
 * one) means no output (`null`); otherwise the file must hold one JSON document of at most
 * `maxBytes`. Anything else fails the attempt rather than passing a string or a truncated value
 * downstream, where it would break far from its cause (a typo in `{"a": 1,}` would otherwise
 * surface as "no field a" in another task).
 */
import { open } from 'node:fs/promises';

/** The output, or why there is none. */
export type OutputFileResult =
  | { readonly ok: true; readonly output: unknown }
  | { readonly ok: false; readonly message: string };

/** Reads and parses at most `maxBytes` (+1, to tell "too big") from `path`. */
export async function readOutputFile(path: string, maxBytes: number): Promise<OutputFileResult> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, output: null };
    return { ok: false, message: `could not open the output file: ${(error as Error).message}` };
  }
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      return { ok: false, message: `the output file is larger than the ${maxBytes}-byte limit` };
    }
    const text = buffer.toString('utf8', 0, length);
    if (text.trim() === '') return { ok: true, output: null };
    try {
      return { ok: true, output: JSON.parse(text) as unknown };
    } catch (error) {
      const preview = text.length > 200 ? `${text.slice(0, 200)}…` : text;
      return {
        ok: false,
        message: `the output file does not hold JSON (${(error as Error).message}); it starts with: ${preview}`,
      };
    }
  } finally {
    await handle.close();
  }
}
