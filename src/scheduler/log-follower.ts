/**
 * The leader's live view of the log: a subscription to the run and attempt streams from a
 * position, handing each event to the leader, opened again after a pause when it gives up (the
 * database gone for too long), so the leader outlives an outage instead of silently stopping.
 *
 * It also keeps the leader from reading back what it already has. In one process the engine
 * hands the leader each of its group commits as it commits (`ownCommit`): their events are left
 * out of the subscription's reads (`skipCommits`), and any a read delivers anyway (one that
 * overtook the commit) are dropped here. The list is pruned as the subscription's position
 * passes it, and a new subscription starts from that position — past what the old one skipped.
 */
import { commitOf, maxPosition } from '../events/position.js';
import type { EventStore, EventSubscription, GlobalPosition, RecordedEvent } from '../events/types.js';
import type { Logger } from '../observability/logger.js';

/** The streams the leader folds. */
export const RUN_AND_ATTEMPT_STREAMS = ['run-', 'attempt-'];

export interface LogFollowerOptions {
  readonly store: EventStore;
  readonly log: Logger;
  /** Each event in log order, except those of own commits; the next waits for it to settle. */
  readonly onEvent: (event: RecordedEvent) => Promise<void>;
}

export class LogFollower {
  /** Own commits (`commitOf`) the subscription has not passed yet. */
  private readonly ownCommits = new Set<string>();
  /** The position of the last event the subscription delivered. */
  private deliveredTo: GlobalPosition | undefined;
  /** How far the subscription has read, delivered or skipped (its position at its last read). */
  private scannedTo: GlobalPosition | undefined;
  /** Where the next subscription starts. */
  private position: GlobalPosition | undefined;
  private subscription: EventSubscription | undefined;
  private following: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: LogFollowerOptions) {}

  /** Follows the log after `from` (from its start when undefined). */
  start(from: GlobalPosition | undefined): void {
    this.position = from;
    this.deliveredTo = from;
    this.following = this.follow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.following;
  }

  /** A commit whose events the leader has folded already: they are not delivered. */
  ownCommit(commit: GlobalPosition): void {
    this.ownCommits.add(commitOf(commit));
  }

  /** True when the subscription has delivered the event at `position` already. */
  delivered(position: GlobalPosition): boolean {
    return this.deliveredTo !== undefined && position <= this.deliveredTo;
  }

  /** True when the event at `position` will not be delivered: delivered, read past, or own. */
  behind(position: GlobalPosition): boolean {
    return (
      this.delivered(position) ||
      (this.scannedTo !== undefined && position <= this.scannedTo) ||
      this.ownCommits.has(commitOf(position))
    );
  }

  private async follow(): Promise<void> {
    let pauseMs = 500;
    while (!this.stopped) {
      const subscription = this.options.store.subscribe({
        from: this.position ?? 'start',
        streamPrefixes: RUN_AND_ATTEMPT_STREAMS,
        skipCommits: (after) => this.commitsAhead(after),
      });
      this.subscription = subscription;
      try {
        for await (const event of subscription) {
          this.deliveredTo = event.position;
          if (!this.ownCommits.has(commitOf(event.position))) await this.options.onEvent(event);
          this.position = event.position;
          pauseMs = 500;
        }
      } catch (error) {
        if (this.stopped) return;
        // Resume past what it filtered out too: the commits it skipped are forgotten behind it.
        const read = subscription.position;
        if (read !== undefined) this.position = this.position ? maxPosition(this.position, read) : read;
        this.options.log.error('leader subscription failed; resubscribing', {
          error: String(error),
          pauseMs,
        });
        // Bounded: a close that cannot reach the database must not keep the leader from
        // subscribing again once the database is back.
        await Promise.race([
          subscription.close().catch(() => {}),
          new Promise((resolve) => setTimeout(resolve, 2000)),
        ]);
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
        pauseMs = Math.min(pauseMs * 2, 10_000);
      }
    }
  }

  /** The own commits still ahead of the subscription's position; forgets those behind it. */
  private commitsAhead(after: GlobalPosition | undefined): Iterable<string> {
    if (after !== undefined) {
      this.scannedTo = this.scannedTo ? maxPosition(this.scannedTo, after) : after;
      const passed = commitOf(after);
      for (const commit of this.ownCommits) if (commit < passed) this.ownCommits.delete(commit);
    }
    return this.ownCommits;
  }
}
