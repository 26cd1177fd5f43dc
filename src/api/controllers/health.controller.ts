/** Health (summary, liveness, readiness) and Prometheus metrics; open unless DAGRUN_API_OPEN_HEALTH=false. */
import type { Request as ExpressRequest } from 'express';
import { Controller, Get, Produces, Request, Response, Route, Tags } from 'tsoa';
import { depsOf } from '../context.js';
import { checkHealth } from '../health.js';
import type { HealthReport } from '../models.js';

@Route('')
@Tags('Operations')
export class HealthController extends Controller {
  /** Every component's health; 200 when ok or degraded, 503 when down. */
  @Get('health')
  @Response<HealthReport>(503, 'An essential component is down')
  public async health(@Request() req: ExpressRequest): Promise<HealthReport> {
    const report = await checkHealth(depsOf(req));
    this.setStatus(report.status === 'down' ? 503 : 200);
    return report;
  }

  /** The process is alive and serving requests. */
  @Get('health/live')
  public async live(): Promise<{ status: 'ok' }> {
    return { status: 'ok' };
  }

  /** Ready to serve: Postgres, the event store and the projector (within the lag limit) are up. */
  @Get('health/ready')
  @Response<HealthReport>(503, 'Not ready')
  public async ready(@Request() req: ExpressRequest): Promise<HealthReport> {
    const report = await checkHealth(depsOf(req));
    const c = report.components;
    const ready = [c.postgres, c.eventStore, c.projector].every((x) => x.status === 'up');
    this.setStatus(ready ? 200 : 503);
    return report;
  }

  /** Prometheus metrics in the text exposition format. */
  @Get('metrics')
  @Produces('text/plain')
  public async metrics(@Request() req: ExpressRequest): Promise<string> {
    const registry = depsOf(req).registry;
    const text = await registry.metrics();
    req.res!.status(200).type(registry.contentType).send(text);
    return text; // already sent
  }
}
