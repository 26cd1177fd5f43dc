/**
 * Adapters between `EventSubscription` (pulled, AsyncIterable) and other consumption styles.
 */
import { Observable } from 'rxjs';
import type { EventSubscription, RecordedEvent } from './types.js';

/**
 * The subscription as an rxjs Observable, for consumers that compose streams of events.
 *
 * A subscription is one cursor, so the Observable is single-use: subscribe to it once (share it
 * with `share()` if several observers need it). Events are emitted one at a time as they are
 * pulled — the next read starts after `next()` returns, so synchronous observers still pace the
 * reads. Unsubscribing closes the subscription; a subscription error becomes `error`, its end
 * becomes `complete`.
 */
export function toObservable(subscription: EventSubscription): Observable<RecordedEvent> {
  let used = false;
  return new Observable<RecordedEvent>((observer) => {
    if (used) {
      observer.error(
        new Error('toObservable: the subscription is single-use; share() the Observable instead'),
      );
      return;
    }
    used = true;
    let unsubscribed = false;
    // Deliberately detached: the loop reports its outcome to the observer, never to a caller.
    void (async () => {
      try {
        for await (const event of subscription) {
          if (unsubscribed) break;
          observer.next(event);
        }
        observer.complete();
      } catch (error) {
        observer.error(error);
      }
    })();
    return () => {
      unsubscribed = true;
      // Deliberately detached: rxjs teardown is synchronous; a failed close has no one to tell.
      subscription.close().catch(() => {});
    };
  });
}
