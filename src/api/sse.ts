/**
 * Server-sent events over a catch-up subscription: each event is sent with its global position as
 * the SSE `id`, so a client that reconnects with `Last-Event-ID` resumes exactly after the last
 * event it saw (no gap, no repeat). Iteration is pulled and waits for the socket to drain, so a
 * slow client slows its own reads instead of growing a buffer. The subscription is closed when
 * the client goes away.
 */
import type { Request, Response } from 'express';
import type { GlobalPosition, RecordedEvent } from '../events/types.js';
import { depsOf } from './context.js';
import type { StoredEvent } from './models.js';

/** Comment lines keep proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

export function wantsEventStream(accept: string | undefined): boolean {
  return accept?.includes('text/event-stream') ?? false;
}

export function toStoredEvent(event: RecordedEvent): StoredEvent {
  return {
    id: event.id,
    position: event.position,
    streamName: event.streamName,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: { ...event.metadata },
    createdAt: event.createdAt.toISOString(),
  };
}

export interface EventStreamOptions {
  readonly from: GlobalPosition | 'start' | 'end';
  readonly streamPrefixes?: readonly string[];
  /** Events the prefixes let through but the client did not ask for. */
  readonly filter?: (event: RecordedEvent) => boolean;
}

/** Streams events until the client disconnects or the store closes. */
export async function serveEventStream(
  req: Request,
  res: Response,
  options: EventStreamOptions,
): Promise<void> {
  const deps = depsOf(req);
  const subscription = deps.store.subscribe({
    from: options.from,
    ...(options.streamPrefixes ? { streamPrefixes: options.streamPrefixes } : {}),
  });
  const closed = () => void subscription.close();
  req.once('close', closed);
  res.once('close', closed);
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write('retry: 1000\n\n');
  const heartbeat = setInterval(() => res.write(': keepalive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  try {
    for await (const event of subscription) {
      if (res.destroyed) break;
      if (options.filter && !options.filter(event)) continue;
      const frame = `id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(toStoredEvent(event))}\n\n`;
      if (!res.write(frame))
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
    }
  } catch (error) {
    if (!res.destroyed) deps.log.warn('event stream ended by an error', { error: String(error) });
  } finally {
    clearInterval(heartbeat);
    req.off('close', closed);
    res.off('close', closed);
    await subscription.close();
    if (!res.writableEnded) res.end();
  }
}
