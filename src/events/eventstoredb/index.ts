/** The EventStoreDB (KurrentDB) event store adapter: the store, its options, and its building blocks. */
export {
  type EsdbClient,
  EventStoreDbEventStore,
  type EventStoreDbEventStoreOptions,
  isUnanswered,
} from './event-store.js';
export { FENCE_WINDOW_LIMITATION, fenceStream, termOfRevision } from './fences.js';
export {
  FENCE_STREAM_PREFIX,
  fromEsdbMetadata,
  isStoreEvent,
  toAppendError,
  toEsdbExpectedRevision,
  toEsdbMetadata,
  toEsdbPosition,
  toGlobalPosition,
} from './mapping.js';
export { EventStoreDbSubscription, isTransientError } from './subscription.js';
