/**
 * Conditional writes (RFC 9110 §13.1.1): a resource served with an `ETag` — a DAG, a run, a DLQ
 * item — can be written with `If-Match`, and the write goes ahead only while the stream behind it
 * is still at a revision the client names. If-Match becomes the command's expected revision, as
 * in EventSourcing.NodeJS's `core/eTag.ts`.
 *
 * The ETag is the revision of the stream the read model's view reflects (`"7"`: the stream's
 * last event has revision 7): `dag-<id>` for a DAG, `run-<id>` for a run and its DLQ items. The
 * check is made against the log, not the read model, when the command appends: its append
 * expects the revision its read saw, so a writer that slips in between makes the append
 * conflict, the command re-read, and the check fail. A failed check is 412
 * `precondition_failed`, and nothing is appended. A command that fails on its own answers that
 * instead (404 for an unknown DAG or run, 409 for a finished run: RFC 9110 §13.2.1), and one
 * with nothing to do is still checked (context.ts, `settlePrecondition`).
 *
 * A run's stream holds its decisions (tasks queued, retried, dead-lettered, the run finished);
 * attempt progress lives in attempt streams, so a task starting does not change the run's ETag,
 * while every scheduling decision does.
 */
import type { Controller } from 'tsoa';
import type { Versioned } from '../projections/index.js';
import { ApiError } from './api-error.js';

/** What an If-Match header asks for. */
export type IfMatch =
  | { readonly kind: 'any' }
  /** Revisions named by strong entity tags; weak or foreign tags never match. */
  | { readonly kind: 'revisions'; readonly revisions: readonly number[] };

/** The ETag of a stream revision. */
export function etagOf(revision: number): string {
  return `"${revision}"`;
}

const ENTITY_TAG = /\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)/y;
const EMPTY_ELEMENT = /\s*,/y;
const REVISION = /^(0|[1-9][0-9]{0,14})$/;

/** Parses `If-Match` (`*` or a list of entity tags); undefined when absent; 400 when malformed. */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return { kind: 'any' };
  const revisions: number[] = [];
  let tags = 0;
  let at = 0;
  while (at < value.length) {
    EMPTY_ELEMENT.lastIndex = at;
    if (EMPTY_ELEMENT.test(value)) {
      at = EMPTY_ELEMENT.lastIndex;
      continue;
    }
    ENTITY_TAG.lastIndex = at;
    const match = ENTITY_TAG.exec(value);
    if (!match) throw malformed(header);
    tags++;
    at = ENTITY_TAG.lastIndex;
    const [, weak, opaque = ''] = match;
    // If-Match compares strongly: a weak tag never matches, nor does a tag we never issued.
    if (!weak && REVISION.test(opaque)) revisions.push(Number(opaque));
  }
  if (tags === 0) throw malformed(header);
  return { kind: 'revisions', revisions };
}

function malformed(header: string): ApiError {
  return new ApiError(400, 'invalid_if_match', 'If-Match must be * or a list of entity tags like "3"', {
    details: {
      issues: [{ path: 'If-Match', kind: 'invalid_header', message: `not an entity-tag list: ${header}` }],
    },
  });
}

/**
 * Throws 412 unless the stream's last revision (-1: no stream) satisfies `ifMatch`. `*` matches
 * any existing stream.
 */
export function assertPrecondition(ifMatch: IfMatch, stream: string, revision: number): void {
  const matched = revision >= 0 && (ifMatch.kind === 'any' || ifMatch.revisions.some((r) => r === revision));
  if (matched) return;
  throw new ApiError(
    412,
    'precondition_failed',
    revision < 0
      ? `If-Match: ${stream} does not exist`
      : `If-Match: ${stream} is at revision ${revision}, not at the one given`,
    { details: { stream, currentEtag: revision < 0 ? null : etagOf(revision) } },
  );
}

/** Sets the view's ETag (when its revision is known) on the response; returns the view. */
export function withEtag<T>(controller: Controller, versioned: Versioned<T>): T {
  if (versioned.revision !== null) controller.setHeader('ETag', etagOf(versioned.revision));
  return versioned.view;
}
