/**
 * Errors are data: every error dagrun raises on purpose has a stable `code` and the HTTP status
 * the API answers with. The API turns them into RFC 7807 problem details in one place; the CLI
 * prints `code: message` and the details.
 */
export abstract class DagrunError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

/** One problem in some input, located by a path and, for YAML, a line and column. */
export interface ValidationIssue {
  /** Dotted path in the input, e.g. `tasks[1].retry.maxAttempts`. */
  readonly path: string;
  readonly message: string;
  /** 1-based line and column in the source text, when the input was text. */
  readonly line?: number;
  readonly column?: number;
  /** A stable machine-readable kind, e.g. `unknown_field`, `cycle`. */
  readonly kind: string;
}

export class ValidationError extends DagrunError {
  readonly code = 'validation_failed';
  readonly status = 400;
  constructor(
    message: string,
    readonly issues: readonly ValidationIssue[],
  ) {
    super(message, { issues });
  }
}

export class NotFoundError extends DagrunError {
  readonly code = 'not_found';
  readonly status = 404;
}

/** The request is well-formed but conflicts with the current state (e.g. idempotency key reuse). */
export class ConflictError extends DagrunError {
  readonly code: string;
  readonly status = 409;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message, details);
    this.code = code;
  }
}

/** The writer's expected revision did not match the stream (optimistic concurrency). */
export class ConcurrencyError extends DagrunError {
  readonly code = 'wrong_expected_revision';
  readonly status = 412;
  constructor(
    readonly stream: string,
    readonly expected: string | number,
    /** The stream's actual last revision, or `no_stream` (-1 is never used). */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${expected}, actual ${actual}`, { stream, expected, actual });
  }
}

/**
 * A fenced append was refused: a newer term has been taken for the fence's key (the writer was
 * deposed). Nothing was written; the writer must stop deciding.
 */
export class FencedError extends DagrunError {
  readonly code = 'fenced';
  readonly status = 409;
  constructor(
    readonly key: string,
    readonly term: number,
    /** The newest term taken for `key` (undefined: none was ever taken). */
    readonly current: number | undefined,
  ) {
    super(`fence ${key}: term ${term} is not the current one (${current ?? 'none taken'})`, {
      key,
      term,
      current,
    });
  }
}

/** A lock was not acquired within its wait. */
export class LockTimeoutError extends DagrunError {
  readonly code = 'lock_timeout';
  readonly status = 503;
  constructor(
    readonly lock: string,
    readonly waitMs: number,
  ) {
    super(`lock ${lock}: not acquired within ${waitMs} ms`, { lock, waitMs });
  }
}

/** Configuration could not be parsed; lists every problem at once. */
export class ConfigError extends DagrunError {
  readonly code = 'invalid_config';
  readonly status = 500;
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`, { problems });
  }
}
