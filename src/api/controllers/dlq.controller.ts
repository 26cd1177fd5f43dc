/** The dead-letter queue: list, read, retry, discard. Item ids are `<runId>:<taskId>:<attempt>`. */
import type { Request as ExpressRequest } from 'express';
import { Controller, Get, Path, Post, Query, Request, Response, Route, Security, Tags } from 'tsoa';
import { discardDeadLetter, retryDeadLetter } from '../../commands/index.js';
import { NotFoundError } from '../../errors.js';
import { depsOf, writeContext } from '../context.js';
import type { Accepted, DlqItem, DlqStatus, Page, Problem } from '../models.js';
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

  /** One dead-letter item. */
  @Get('{id}')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown item')
  public async getDlqItem(@Request() req: ExpressRequest, @Path() id: string): Promise<DlqItem> {
    return findItem(req, id);
  }

  /** Queues a new attempt of the dead-lettered task; its downstream runs again. */
  @Post('{id}/retry')
  @Security('bearer', ['write'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown item, or not open')
  @Response<Problem>(409, 'The run was cancelled')
  @Response<Problem>(429, 'The dispatcher backlog is full')
  public async retryDlqItem(@Request() req: ExpressRequest, @Path() id: string): Promise<DlqItem | Accepted> {
    const item = await findItem(req, id);
    const write = writeContext(req);
    await retryDeadLetter(write.ctx, item.runId, item.taskId);
    return answerWrite(this, await readBack(req, write, () => depsOf(req).queries.getDlqItem(id)), write, {
      id,
    });
  }

  /** Closes the item without retrying; the task stays dead-lettered. */
  @Post('{id}/discard')
  @Security('bearer', ['write'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown item, or not open')
  public async discardDlqItem(
    @Request() req: ExpressRequest,
    @Path() id: string,
  ): Promise<DlqItem | Accepted> {
    const item = await findItem(req, id);
    const write = writeContext(req);
    await discardDeadLetter(write.ctx, item.runId, item.taskId);
    return answerWrite(this, await readBack(req, write, () => depsOf(req).queries.getDlqItem(id)), write, {
      id,
    });
  }
}

async function findItem(req: ExpressRequest, id: string): Promise<DlqItem> {
  const item = await depsOf(req).queries.getDlqItem(id);
  if (!item) throw new NotFoundError(`no dead-letter item ${id}`, { id });
  return item;
}
