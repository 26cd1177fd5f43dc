/** Runs: list, read (now or as of a point of the log), cancel, attempts with logs, history. */
import type { Request as ExpressRequest } from 'express';
import {
  Body,
  Controller,
  Get,
  Header,
  Path,
  Post,
  Query,
  Request,
  Response,
  Route,
  Security,
  Tags,
} from 'tsoa';
import { cancelRun } from '../../commands/index.js';
import { NotFoundError } from '../../errors.js';
import { parsePosition } from '../../events/position.js';
import { streams } from '../../events/schemas/index.js';
import { depsOf, writeContext } from '../context.js';
import type {
  Accepted,
  Attempt,
  EventPage,
  Page,
  Problem,
  ReasonRequest,
  RunDetail,
  RunSnapshot,
  RunStatus,
  RunSummary,
} from '../models.js';
import { parseIfMatch, withEtag } from '../preconditions.js';
import { answerWrite, readBack } from '../read-back.js';
import { belongsToRun, parseAsOf, readRunHistory, runAsOf } from '../run-history.js';
import { serveEventStream, toStoredEvent, wantsEventStream } from '../sse.js';

@Route('api/v1/runs')
@Tags('Runs')
export class RunsController extends Controller {
  /**
   * Runs, newest request first.
   * @param dagId only runs of this DAG
   * @param status only runs in this status
   * @param cursor `nextCursor` of the previous page
   * @param limit 1 to 500, default 50
   */
  @Get()
  @Security('bearer', ['read'])
  public async listRuns(
    @Request() req: ExpressRequest,
    @Query() dagId?: string,
    @Query() status?: RunStatus,
    @Query() cursor?: string,
    @Query() limit?: number,
  ): Promise<Page<RunSummary>> {
    return depsOf(req).queries.listRuns({ dagId, status, cursor, limit });
  }

  /**
   * A run with its task instances. With `asOf` (a global position, or an ISO-8601 instant) the
   * run as it was then, folded from the log by the scheduler's own state machine. Without
   * `asOf`, the `ETag` is the revision of the run's stream (its decisions) this view shows; send
   * it back as `If-Match` to cancel only if nothing was decided since.
   * @param asOf a global position (`0000000000000abc-0000000000000012`) or an ISO-8601 instant
   */
  @Get('{id}')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown run, or the run did not exist yet at asOf')
  public async getRun(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Query() asOf?: string,
  ): Promise<RunDetail | RunSnapshot> {
    const deps = depsOf(req);
    if (asOf === undefined) {
      const run = await deps.queries.getVersionedRun(id);
      if (!run) throw new NotFoundError(`run ${id} does not exist`, { runId: id });
      // The ETag names the run stream's revision, which attempt progress does not move: it is a
      // precondition for writes, not a cache validator, so If-None-Match never earns a 304 here
      // (express would answer one for a matching ETag).
      delete req.headers['if-none-match'];
      return withEtag(this, run);
    }
    const point = parseAsOf(asOf);
    const history = await readRunHistory(deps.store, id);
    if (history.length === 0) throw new NotFoundError(`run ${id} does not exist`, { runId: id });
    const snapshot = await runAsOf(deps.store, history, id, asOf, point);
    if (!snapshot) throw new NotFoundError(`run ${id} did not exist yet at ${asOf}`, { runId: id, asOf });
    return snapshot;
  }

  /**
   * Requests cancellation: running attempts are stopped, nothing new starts. Idempotent. With
   * `If-Match`, only while the run's stream is at that ETag (else 412).
   * @param ifMatch only if the run is still at this ETag
   */
  @Post('{id}/cancel')
  @Security('bearer', ['write'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown run')
  @Response<Problem>(409, 'The run has already finished')
  @Response<Problem>(412, 'If-Match did not match the run')
  public async cancelRun(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Body() body?: ReasonRequest,
    @Header('If-Match') ifMatch?: string,
  ): Promise<RunDetail | Accepted> {
    const condition = parseIfMatch(ifMatch);
    const write = writeContext(req, condition && { stream: streams.run(id), ifMatch: condition });
    await cancelRun(write.ctx, id, body?.reason);
    write.settlePrecondition();
    const view = await readBack(req, write, () => depsOf(req).queries.getVersionedRun(id));
    return answerWrite(this, view && withEtag(this, view), write, { id });
  }

  /** Every attempt of a task, first to last, with the head and tail of its stdout and stderr. */
  @Get('{id}/tasks/{taskId}/attempts')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown run or task')
  public async getTaskAttempts(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Path() taskId: string,
  ): Promise<Attempt[]> {
    const deps = depsOf(req);
    const run = await deps.queries.getRun(id);
    if (!run) throw new NotFoundError(`run ${id} does not exist`, { runId: id });
    if (!run.taskInstances.some((t) => t.taskId === taskId)) {
      throw new NotFoundError(`run ${id} has no task ${taskId}`, { runId: id, taskId });
    }
    return deps.queries.getTaskAttempts(id, taskId);
  }

  /**
   * The run's full history: its run stream and its attempt streams, in the global order. With
   * `Accept: text/event-stream`, the same history and then live events as server-sent events
   * (`id` is the position); reconnecting with `Last-Event-ID` resumes after that event.
   * @param accept `text/event-stream` for a live subscription
   * @param lastEventId the position to resume after (SSE)
   */
  @Get('{id}/events')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown run')
  public async getRunEvents(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Header('Accept') accept?: string,
    @Header('Last-Event-ID') lastEventId?: string,
  ): Promise<EventPage> {
    const deps = depsOf(req);
    if (wantsEventStream(accept)) {
      const from = lastEventId === undefined ? 'start' : parsePosition(lastEventId, 'Last-Event-ID');
      const exists = await deps.store.readStream(streams.run(id), { maxCount: 1 });
      if (exists.length === 0) throw new NotFoundError(`run ${id} does not exist`, { runId: id });
      await serveEventStream(req, req.res!, {
        from,
        streamPrefixes: [streams.run(id), `attempt-${id}-`],
        filter: (event) => belongsToRun(id, event),
      });
      return { items: [], lastPosition: null }; // not sent: the stream already answered
    }
    const history = await readRunHistory(deps.store, id);
    if (history.length === 0) throw new NotFoundError(`run ${id} does not exist`, { runId: id });
    return { items: history.map(toStoredEvent), lastPosition: history.at(-1)?.position ?? null };
  }
}
