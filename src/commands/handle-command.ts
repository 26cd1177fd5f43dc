/**
 * The thin I/O shell around a decider: read the stream, fold it, decide, append with the revision
 * that was read. If another writer got there first, read again and decide again — the decision is
 * re-taken on the new state, never appended blindly.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError } from '../errors.js';
import type { AppendResult, EventMetadata, EventStore, ExpectedRevision } from '../events/types.js';
import type { Decider } from './decider.js';
import { fold } from './decider.js';

export interface CommandContext {
  readonly store: EventStore;
  /** Metadata for the events this command appends (correlation id, actor, traceparent). */
  readonly metadata: Pick<EventMetadata, 'correlationId' | 'actor' | 'traceparent'>;
  /** Attempts before a persistent conflict is surfaced. */
  readonly maxAttempts?: number;
}

export interface HandleResult<State> {
  readonly state: State;
  /** Types of the events appended; empty when the command was a no-op. */
  readonly appended: readonly string[];
  readonly append: AppendResult | undefined;
  /** Revision of the stream's last event after the command (-1 for a stream that does not exist). */
  readonly revision: number;
}

export async function handleCommand<State, Command, Event extends { type: string; data: unknown }>(
  ctx: CommandContext,
  streamName: string,
  decider: Decider<State, Command, Event>,
  command: Command,
): Promise<HandleResult<State>> {
  const maxAttempts = ctx.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const recorded = await ctx.store.readStream(streamName);
    const events = recorded.map((e) => ({ type: e.type, data: e.data }) as Event);
    const state = fold(decider, events);
    const revision = recorded.length - 1;
    const decided = decider.decide(command, state);
    if (decided.length === 0) return { state, appended: [], append: undefined, revision };
    const expected: ExpectedRevision = revision < 0 ? 'no_stream' : revision;
    const causationId = ctx.metadata.correlationId;
    try {
      const append = await ctx.store.append(
        streamName,
        decided.map((event) => ({
          id: randomUUID(),
          type: event.type,
          data: event.data,
          metadata: { ...ctx.metadata, causationId },
        })),
        expected,
      );
      return {
        state: decided.reduce(decider.evolve, state),
        appended: decided.map((e) => e.type),
        append,
        revision: append.nextExpectedRevision,
      };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
    }
  }
}
