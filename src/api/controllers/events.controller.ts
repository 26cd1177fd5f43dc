/** The log itself: every stream in the global order, as a page or as a live SSE subscription. */
import type { Request as ExpressRequest } from 'express';
import { Controller, Get, Header, Query, Request, Route, Security, Tags } from 'tsoa';
import { ValidationError } from '../../errors.js';
import { parsePosition } from '../../events/position.js';
import { depsOf } from '../context.js';
import type { EventCategory, EventPage } from '../models.js';
import { serveEventStream, toStoredEvent, wantsEventStream } from '../sse.js';

const MAX_EVENTS = 1000;

function prefixOf(category: EventCategory): string {
  // The workers stream is one stream named `workers`; the others are `<category>-<id>`.
  return category === 'workers' ? 'workers' : `${category}-`;
}

@Route('api/v1/events')
@Tags('Events')
export class EventsController extends Controller {
  /**
   * Events of all streams (or one category) in the global order, after a position. With
   * `Accept: text/event-stream`, a live subscription from `Last-Event-ID` (or `after`; new events
   * only when neither is given).
   * @param category only streams of this category
   * @param after return events strictly after this position (`lastPosition` of the previous page)
   * @param limit 1 to 1000, default 100
   * @param accept `text/event-stream` for a live subscription
   * @param lastEventId the position to resume after (SSE)
   */
  @Get()
  @Security('bearer', ['read'])
  public async listEvents(
    @Request() req: ExpressRequest,
    @Query() category?: EventCategory,
    @Query() after?: string,
    @Query() limit?: number,
    @Header('Accept') accept?: string,
    @Header('Last-Event-ID') lastEventId?: string,
  ): Promise<EventPage> {
    const deps = depsOf(req);
    const from = after === undefined ? undefined : parsePosition(after, 'after');
    const streamPrefixes = category ? [prefixOf(category)] : undefined;
    if (wantsEventStream(accept)) {
      const resume = lastEventId === undefined ? undefined : parsePosition(lastEventId, 'Last-Event-ID');
      await serveEventStream(req, req.res!, {
        from: resume ?? from ?? 'end',
        ...(streamPrefixes ? { streamPrefixes } : {}),
        ...(category === 'workers' ? { filter: (e) => e.streamName === 'workers' } : {}),
      });
      return { items: [], lastPosition: null }; // not sent: the stream already answered
    }
    const max = limit ?? 100;
    if (!Number.isSafeInteger(max) || max < 1 || max > MAX_EVENTS) {
      throw new ValidationError(`limit must be an integer from 1 to ${MAX_EVENTS}`, [
        { path: 'limit', kind: 'invalid_limit', message: `must be an integer from 1 to ${MAX_EVENTS}` },
      ]);
    }
    const events = await deps.store.readAll({
      after: from,
      maxCount: max,
      ...(streamPrefixes ? { streamPrefixes } : {}),
    });
    const items = (category === 'workers' ? events.filter((e) => e.streamName === 'workers') : events).map(
      toStoredEvent,
    );
    return { items, lastPosition: events.at(-1)?.position ?? null };
  }
}
