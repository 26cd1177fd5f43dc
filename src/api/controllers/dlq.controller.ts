/** The dead-letter queue: list, read, retry, discard. Item ids are `<runId>:<taskId>:<attempt>`. */
import type { Request as ExpressRequest } from 'express';
import { Controller, Get, Header, Path, Post, Query, Request, Response, Route, Security, Tags } from 'tsoa';
import { type CommandContext, discardDeadLetter, retryDeadLetter } from '../../commands/index.js';
import { NotFoundError } from '../../errors.js';
import { streams } from '../../events/schemas/index.js';
import type { Versioned } from '../../projections/index.js';
import { depsOf, writeContext } from '../context.js';
import type { Accepted, DlqItem, DlqStatus, Page, Problem } from '../models.js';
import { parseIfMatch, withEtag } from '../preconditions.js';
import { answerWrite, readBack } from '../read-back.js';

@Route('api/v1/dlq')
@Tags('Dead letters')
export class DlqController extends Controller {
  /**
   * Dead-letter items, newest first.
   * @param status only items in this status
   * @param runId only items of this run
   * @param cursor `nextCursor` of the previous page
   * @param limit 1 to 500, default 50
   */
  @Get()
  @Security('bearer', ['read'])
  public async listDlq(
    @Request() req: ExpressRequest,
    @Query() status?: DlqStatus,
    @Query() runId?: string,
    @Query() cursor?: string,
    @Query() limit?: number,
  ): Promise<Page<DlqItem>> {
    return depsOf(req).queries.listDlq({ status, runId, cursor, limit });
  }

  /**
   * One dead-letter item. Its `ETag` is the revision of its run's stream (retry and discard are
   * decisions on the run): send it back as `If-Match` to act only if nothing was decided since.
   */
  @Get('{id}')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown item')
  public async getDlqItem(@Request() req: ExpressRequest, @Path() id: string): Promise<DlqItem> {
    return withEtag(this, await findItem(req, id));
  }

  /**
   * Queues a new attempt of the dead-lettered task; its downstream runs again. With `If-Match`,
   * only while the run's stream is at that ETag (else 412).
   * @param ifMatch only if the item's run is still at this ETag
   */
  @Post('{id}/retry')
  @Security('bearer', ['write'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown item, or not open')
  @Response<Problem>(409, 'The run was cancelled')
  @Response<Problem>(412, 'If-Match did not match the run')
  @Response<Problem>(429, 'The dispatcher backlog is full')
  public async retryDlqItem(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Header('If-Match') ifMatch?: string,
  ): Promise<DlqItem | Accepted> {
    return this.actOnItem(req, id, ifMatch, retryDeadLetter);
  }

  /**
   * Closes the item without retrying; the task stays dead-lettered. With `If-Match`, only while
   * the run's stream is at that ETag (else 412).
   * @param ifMatch only if the item's run is still at this ETag
   */
  @Post('{id}/discard')
  @Security('bearer', ['write'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown item, or not open')
  @Response<Problem>(412, 'If-Match did not match the run')
  public async discardDlqItem(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Header('If-Match') ifMatch?: string,
  ): Promise<DlqItem | Accepted> {
    return this.actOnItem(req, id, ifMatch, discardDeadLetter);
  }

  /** Appends `act` for the item's run (under `If-Match`), then answers with the item read back. */
  private async actOnItem(
    req: ExpressRequest,
    id: string,
    ifMatch: string | undefined,
    act: (ctx: CommandContext, runId: string, taskId: string) => Promise<unknown>,
  ): Promise<DlqItem | Accepted> {
    const condition = parseIfMatch(ifMatch);
    const { view: item } = await findItem(req, id);
    const write = writeContext(req, condition && { stream: streams.run(item.runId), ifMatch: condition });
    await act(write.ctx, item.runId, item.taskId);
    write.settlePrecondition();
    const view = await readBack(req, write, () => depsOf(req).queries.getVersionedDlqItem(id));
    return answerWrite(this, view && withEtag(this, view), write, { id });
  }
}

async function findItem(req: ExpressRequest, id: string): Promise<Versioned<DlqItem>> {
  const item = await depsOf(req).queries.getVersionedDlqItem(id);
  if (!item) throw new NotFoundError(`no dead-letter item ${id}`, { id });
  return item;
}
