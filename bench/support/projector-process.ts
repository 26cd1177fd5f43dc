/**
 * The read-model projector in a process of its own, as `dagrun projector` runs it, reporting to
 * the benchmark that forked it (bench/projection-lag.ts) over IPC: per committed event its
 * `created_at` and its lag (commit time − created_at), and the projector's own `lagMs` sampled
 * every 50 ms. Sent in messages every 100 ms; `stop` ends it.
 *
 *   fork('bench/support/projector-process.ts', [databaseUrl], { execArgv: ['--import', 'tsx'] })
 */
import { createPool } from '../../src/db/pool.js';
import { PostgresEventStore } from '../../src/events/postgres/index.js';
import { withSchemaValidation } from '../../src/events/validating-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { Projector } from '../../src/projections/index.js';

/** What the child sends. */
export type ProjectorProcessMessage =
  | { readonly type: 'running' }
  | {
      readonly type: 'report';
      /** Flat pairs: createdAt (ms since the epoch), lag (ms). */
      readonly lags: number[];
      /** Flat pairs: sampled at (ms since the epoch), projector.lagMs. */
      readonly samples: number[];
      readonly position: string;
    }
  | { readonly type: 'stopped' };

const url = process.argv[2];
if (!url || !process.send) throw new Error('usage: fork(projector-process.ts, [databaseUrl])');
const send = (message: ProjectorProcessMessage) => process.send?.(message);

const pool = createPool(url, { max: 4, applicationName: 'dagrun-bench-projector' });
const store = withSchemaValidation(new PostgresEventStore({ pool }));
let lags: number[] = [];
let samples: number[] = [];
const projector = new Projector({
  store,
  pool,
  log: createLogger({ level: 'error' }),
  onCommitted: (events) => {
    const now = Date.now();
    for (const e of events) lags.push(e.createdAt.getTime(), now - e.createdAt.getTime());
  },
}).start();

const sampler = setInterval(() => samples.push(Date.now(), projector.lagMs), 50);
const reporter = setInterval(() => {
  send({ type: 'report', lags, samples, position: projector.status.position });
  lags = [];
  samples = [];
}, 100);
const running = setInterval(() => {
  if (projector.status.state !== 'running') return;
  clearInterval(running);
  send({ type: 'running' });
}, 10);

process.on('message', async (message) => {
  if (message !== 'stop') return;
  clearInterval(sampler);
  clearInterval(reporter);
  clearInterval(running);
  await projector.stop();
  await store.close();
  await pool.end();
  send({ type: 'report', lags, samples, position: projector.status.position });
  send({ type: 'stopped' });
  process.disconnect();
});
