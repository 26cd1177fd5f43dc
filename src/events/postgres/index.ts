/** The Postgres event store adapter: the store, its options, and its building blocks. */
export { type AppendOptions, appendToStream, MAX_APPEND_BATCH } from './append.js';
export { PostgresEventStore, type PostgresEventStoreOptions } from './event-store.js';
export { type AllPage, type Queryable, readAllEvents, readAllPage, readStreamEvents } from './read.js';
export {
  EVENTS_CHANNEL,
  isTransient,
  type PostgresSubscribeOptions,
  PostgresSubscription,
} from './subscription.js';
