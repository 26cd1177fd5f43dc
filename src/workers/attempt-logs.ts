/** Where a worker keeps the bounded stdout/stderr capture of each attempt, and where it is read back. */
import type pg from 'pg';
import type { AttemptRef } from '../scheduler/work-source.js';
import type { CapturedText } from './output/bounded-capture.js';

export interface AttemptLogs {
  readonly stdout: CapturedText;
  readonly stderr: CapturedText;
}

export interface AttemptLogStore {
  save(ref: AttemptRef, logs: AttemptLogs): Promise<void>;
  load(ref: AttemptRef): Promise<AttemptLogs | undefined>;
}

export class PostgresAttemptLogStore implements AttemptLogStore {
  constructor(private readonly pool: pg.Pool) {}

  async save(ref: AttemptRef, logs: AttemptLogs): Promise<void> {
    await this.pool.query(
      `INSERT INTO attempt_logs (run_id, task_id, attempt, stream, head, tail, total_bytes, truncated)
       SELECT $1, $2, $3, s.stream, s.head, s.tail, s.total_bytes, s.truncated
       FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::boolean[])
         AS s(stream, head, tail, total_bytes, truncated)
       ON CONFLICT (run_id, task_id, attempt, stream) DO UPDATE
         SET head = EXCLUDED.head, tail = EXCLUDED.tail, total_bytes = EXCLUDED.total_bytes,
             truncated = EXCLUDED.truncated, written_at = now()`,
      [
        ref.runId,
        ref.taskId,
        ref.attempt,
        ['stdout', 'stderr'],
        [clean(logs.stdout.head), clean(logs.stderr.head)],
        [clean(logs.stdout.tail), clean(logs.stderr.tail)],
        [logs.stdout.totalBytes, logs.stderr.totalBytes],
        [logs.stdout.truncated, logs.stderr.truncated],
      ],
    );
  }

  async load(ref: AttemptRef): Promise<AttemptLogs | undefined> {
    const { rows } = await this.pool.query<{
      stream: 'stdout' | 'stderr';
      head: string;
      tail: string;
      total_bytes: string;
      truncated: boolean;
    }>(
      'SELECT stream, head, tail, total_bytes, truncated FROM attempt_logs WHERE run_id = $1 AND task_id = $2 AND attempt = $3',
      [ref.runId, ref.taskId, ref.attempt],
    );
    if (rows.length === 0) return undefined;
    const byStream = (name: 'stdout' | 'stderr'): CapturedText => {
      const row = rows.find((r) => r.stream === name);
      return row
        ? { head: row.head, tail: row.tail, totalBytes: Number(row.total_bytes), truncated: row.truncated }
        : { head: '', tail: '', totalBytes: 0, truncated: false };
    };
    return { stdout: byStream('stdout'), stderr: byStream('stderr') };
  }
}

/** Postgres text cannot hold NUL; a task that prints one still gets its log stored. */
function clean(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
