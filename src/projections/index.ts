/** The read models: the projector that builds them, the replay that rebuilds them, their queries. */
export { type EventBatch, EventBatcher } from './batcher.js';
export {
  applyBatch,
  type BeforeCommitHook,
  type Checkpoint,
  CheckpointMovedError,
  isProjectionLocked,
  loadCheckpoint,
  READ_MODELS_PROJECTION,
} from './checkpoint.js';
export { createReadModelDb } from './database.js';
export { PROJECTED_STREAM_PREFIXES, projectEvent } from './handlers/index.js';
export { lagOf, type ProjectionProgress, readProjectionProgress } from './progress.js';
export { Projector, type ProjectorOptions, type ProjectorState, type ProjectorStatus } from './projector.js';
export {
  DEFAULT_PAGE_SIZE,
  type ListDagsRequest,
  type ListDlqRequest,
  type ListRunsRequest,
  MAX_PAGE_SIZE,
  type PageRequest,
  ReadModelQueries,
} from './queries.js';
export { type ReplayOptions, type ReplayReport, replayReadModels } from './replay.js';
export { READ_MODEL_TABLES, type ReadModelDatabase } from './schema.js';
export type * from './views.js';
export { ProjectionWatcher, type ProjectionWatcherOptions } from './watcher.js';
