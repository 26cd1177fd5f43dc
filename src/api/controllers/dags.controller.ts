/** DAGs: register (YAML or JSON), read, list, pause and resume, and request runs of one. */
import type { Request as ExpressRequest } from 'express';
import {
  Body,
  Consumes,
  Controller,
  Example,
  Get,
  Header,
  Path,
  Post,
  Query,
  Request,
  Response,
  Route,
  Security,
  SuccessResponse,
  Tags,
} from 'tsoa';
import { pauseDag, registerDag, requestRun, resumeDag } from '../../commands/index.js';
import { normalizeDagObject, parseDag } from '../../dag/index.js';
import { NotFoundError } from '../../errors.js';
import { streams } from '../../events/schemas/index.js';
import { ApiError } from '../api-error.js';
import { depsOf, type WriteGuard, writeContext } from '../context.js';
import type {
  Accepted,
  DagDetail,
  DagSummary,
  Page,
  Problem,
  ReasonRequest,
  RunDetail,
  RunRequest,
} from '../models.js';
import { parseIfMatch, withEtag } from '../preconditions.js';
import { issuesOf } from '../problems.js';
import { answerWrite, readBack } from '../read-back.js';

@Route('api/v1/dags')
@Tags('DAGs')
export class DagsController extends Controller {
  /**
   * Registers a DAG, or publishes a new version of it when its normalized spec changed. The body
   * is the DAG file: YAML (`application/yaml`) or the same structure as JSON
   * (`application/json`). Invalid DAGs answer 422 with every issue; YAML issues carry their line
   * and column. 201 when a version was published, 200 when the same spec was already registered.
   * With `If-Match` (the `ETag` of GET /api/v1/dags/{id}, or `*`) the DAG must exist and still be
   * at that revision, else 412 and nothing changes. Answers carry the DAG's new `ETag`.
   * @param body the DAG definition (YAML text or JSON object)
   * @param ifMatch only if the DAG is still at this ETag (or exists, for `*`)
   */
  @Post()
  @Consumes('application/yaml')
  @Security('bearer', ['write'])
  @SuccessResponse(201, 'A new DAG or a new version')
  @Response<DagDetail>(200, 'The same spec was registered before; nothing changed')
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(412, 'If-Match did not match the DAG')
  @Response<Problem>(415, 'Not YAML or JSON')
  @Response<Problem>(422, 'The DAG is invalid')
  @Example<string>('name: hello\ntasks:\n  - id: say\n    type: shell\n    command: echo hello\n')
  public async registerDag(
    @Request() req: ExpressRequest,
    @Body() body: unknown,
    @Header('If-Match') ifMatch?: string,
  ): Promise<DagDetail | Accepted> {
    const deps = depsOf(req);
    const condition = parseIfMatch(ifMatch);
    const parsed =
      typeof body === 'string' ? parseDag(body, { maxBytes: deps.maxSpecBytes }) : normalizeDagObject(body);
    if (!parsed.ok) {
      const count = parsed.issues.length;
      throw new ApiError(422, 'invalid_dag', `invalid DAG (${count} problem${count === 1 ? '' : 's'})`, {
        details: { issues: issuesOf(parsed.issues) },
      });
    }
    const write = writeContext(req, guard(parsed.dag.name, condition));
    const result = await registerDag(write.ctx, parsed.dag);
    write.settlePrecondition();
    const location = `/api/v1/dags/${encodeURIComponent(result.dagId)}`;
    this.setHeader('Location', location);
    const view = await readBack(req, write, () => deps.queries.getVersionedDag(result.dagId));
    return answerWrite(this, view && withEtag(this, view), write, {
      created: result.changed,
      id: result.dagId,
    });
  }

  /**
   * DAGs by id.
   * @param paused only paused (true) or active (false) DAGs
   * @param includeDeleted include deleted DAGs
   * @param cursor `nextCursor` of the previous page
   * @param limit 1 to 500, default 50
   */
  @Get()
  @Security('bearer', ['read'])
  public async listDags(
    @Request() req: ExpressRequest,
    @Query() paused?: boolean,
    @Query() includeDeleted?: boolean,
    @Query() cursor?: string,
    @Query() limit?: number,
  ): Promise<Page<DagSummary>> {
    return depsOf(req).queries.listDags({ paused, includeDeleted, cursor, limit });
  }

  /**
   * A DAG with its versions (newest first) and its latest normalized spec. The `ETag` is the
   * revision of the DAG's stream this view shows; send it back as `If-Match` on a write.
   */
  @Get('{id}')
  @Security('bearer', ['read'])
  @Response<Problem>(404, 'Unknown DAG')
  public async getDag(@Request() req: ExpressRequest, @Path() id: string): Promise<DagDetail> {
    const dag = await depsOf(req).queries.getVersionedDag(id);
    if (!dag) throw new NotFoundError(`DAG ${id} is not registered`, { dagId: id });
    return withEtag(this, dag);
  }

  /**
   * Pauses a DAG: new runs are refused (409 dag_paused) until it is resumed. Idempotent. With
   * `If-Match`, only while the DAG is at that ETag (else 412).
   * @param ifMatch only if the DAG is still at this ETag
   */
  @Post('{id}/pause')
  @Security('bearer', ['admin'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown DAG')
  @Response<Problem>(412, 'If-Match did not match the DAG')
  public async pauseDag(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Body() body?: ReasonRequest,
    @Header('If-Match') ifMatch?: string,
  ): Promise<DagDetail | Accepted> {
    const write = writeContext(req, guard(id, parseIfMatch(ifMatch)));
    await pauseDag(write.ctx, id, body?.reason);
    write.settlePrecondition();
    const view = await readBack(req, write, () => depsOf(req).queries.getVersionedDag(id));
    return answerWrite(this, view && withEtag(this, view), write, { id });
  }

  /**
   * Resumes a paused DAG. Idempotent. With `If-Match`, only while the DAG is at that ETag.
   * @param ifMatch only if the DAG is still at this ETag
   */
  @Post('{id}/resume')
  @Security('bearer', ['admin'])
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown DAG')
  @Response<Problem>(412, 'If-Match did not match the DAG')
  public async resumeDag(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Header('If-Match') ifMatch?: string,
  ): Promise<DagDetail | Accepted> {
    const write = writeContext(req, guard(id, parseIfMatch(ifMatch)));
    await resumeDag(write.ctx, id);
    write.settlePrecondition();
    const view = await readBack(req, write, () => depsOf(req).queries.getVersionedDag(id));
    return answerWrite(this, view && withEtag(this, view), write, { id });
  }

  /**
   * Requests a run of the DAG's latest version. With an idempotency key (body or
   * `Idempotency-Key` header; the body wins) the same key and params give the same run: 200 with
   * it instead of 201. Answers once the read model shows the run, so a GET right after sees it.
   * @param idempotencyKey the `Idempotency-Key` header
   */
  @Post('{id}/runs')
  @Security('bearer', ['write'])
  @SuccessResponse(201, 'The run was created')
  @Response<RunDetail>(200, 'The idempotency key named an existing run')
  @Response<Accepted>(202, 'Appended; the read model did not show it in time')
  @Response<Problem>(404, 'Unknown DAG')
  @Response<Problem>(409, 'The DAG is paused, or the idempotency key was used with other params')
  @Response<Problem>(429, 'The dispatcher backlog is full')
  public async requestRun(
    @Request() req: ExpressRequest,
    @Path() id: string,
    @Body() body?: RunRequest,
    @Header('Idempotency-Key') idempotencyKey?: string,
  ): Promise<RunDetail | Accepted> {
    const key = body?.idempotencyKey ?? idempotencyKey;
    if (key !== undefined && (key.length === 0 || key.length > 200)) {
      throw new ApiError(400, 'invalid_request', 'the idempotency key must be 1 to 200 characters', {
        details: {
          issues: [
            { path: 'idempotencyKey', kind: 'invalid_length', message: 'must be 1 to 200 characters' },
          ],
        },
      });
    }
    const write = writeContext(req);
    const result = await requestRun(write.ctx, {
      dagId: id,
      params: body?.params ?? {},
      idempotencyKey: key,
    });
    this.setHeader('Location', `/api/v1/runs/${result.runId}`);
    const view = await readBack(req, write, () => depsOf(req).queries.getVersionedRun(result.runId));
    return answerWrite(this, view && withEtag(this, view), write, {
      created: result.created,
      id: result.runId,
    });
  }
}

/** The guard of a write to `dag-<dagId>` under an If-Match, if one was sent. */
function guard(dagId: string, ifMatch: ReturnType<typeof parseIfMatch>): WriteGuard | undefined {
  return ifMatch ? { stream: streams.dag(dagId), ifMatch } : undefined;
}
