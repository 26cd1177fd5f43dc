/** Errors only the HTTP edge raises (auth, limits, media types), in the same shape as the domain's. */
import { DagrunError } from '../errors.js';

export class ApiError extends DagrunError {
  readonly code: string;
  readonly status: number;
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message, options.details ?? {});
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}
