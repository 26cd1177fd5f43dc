/**
 * Read your own writes: after a command appended, wait (briefly) until the projector has applied
 * that position, then read the read model. If the projector does not get there in time the
 * caller answers 202 Accepted with a Location to poll instead of a stale or missing body.
 */
import type { Request } from 'express';
import type { Controller } from 'tsoa';
import { depsOf, type WriteContext } from './context.js';
import type { Accepted } from './models.js';

/** The read model's view after the write, or undefined when it did not catch up in time. */
export async function readBack<T>(
  req: Request,
  write: WriteContext,
  read: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const position = write.lastPosition();
  if (position !== undefined) {
    const deps = depsOf(req);
    try {
      await deps.projector.waitForPosition(position, deps.config.readYourWritesMs);
    } catch {
      return undefined;
    }
  }
  return read();
}

/**
 * How every write answers: 201 (something was created) or 200 with the read model's view; 202
 * with the id and the appended position when the read model lagged.
 */
export function answerWrite<T>(
  controller: Controller,
  view: T | undefined,
  write: WriteContext,
  options: { readonly id: string; readonly created?: boolean },
): T | Accepted {
  if (view === undefined) {
    controller.setStatus(202);
    return { id: options.id, position: write.lastPosition() ?? '' };
  }
  controller.setStatus(options.created ? 201 : 200);
  return view;
}
