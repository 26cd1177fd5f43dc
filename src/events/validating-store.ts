import { validateEvents } from './schemas/index.js';
import type { AppendOptions, EventStore, ExpectedRevision, NewEvent } from './types.js';

/**
 * Wraps any EventStore so that every append is checked against the schema registry before it
 * reaches the adapter. Adapters stay schema-agnostic (the contract suite appends arbitrary events).
 */
export function withSchemaValidation(store: EventStore): EventStore {
  return {
    append: (
      stream: string,
      events: readonly NewEvent[],
      expected?: ExpectedRevision,
      options?: AppendOptions,
    ) => store.append(stream, validateEvents(stream, events), expected, options),
    readStream: (stream, options) => store.readStream(stream, options),
    readAll: (options) => store.readAll(options),
    subscribe: (options) => store.subscribe(options),
    nextTerm: (key) => store.nextTerm(key),
    close: () => store.close(),
  };
}
