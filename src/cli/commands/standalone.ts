/**
 * `dagrun standalone`: the whole engine as a long-running service on one machine — embedded
 * Postgres (or DATABASE_URL), in-process coordination, the scheduler and local workers. DAG
 * files in `--dags` are registered at start and whenever they change (a new version only when
 * the normalized spec changed). SIGINT/SIGTERM drain the workers, stop the scheduler and then
 * the embedded Postgres, so nothing is left running. With `--port` (or DAGRUN_PORT) it also serves
 * the REST API (src/api) on DAGRUN_HOST, and stops it first on shutdown.
 */
import { mkdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type ApiServer, startApiServer } from '../../api/server.js';
import { registerDag } from '../../commands/index.js';
import { loadConfig } from '../../config/index.js';
import type { EventStore } from '../../events/types.js';
import { registerDecisionMetrics } from '../../observability/scheduler-metrics.js';
import { startTracing } from '../../observability/tracing.js';
import { Projector } from '../../projections/index.js';
import { shutdownSignal } from '../cluster.js';
import { type CliContext, commandMetadata, type GlobalOptions, runAction } from '../context.js';
import { readDagFile } from '../dag-files.js';
import { openLocalDatabase } from '../database.js';
import { startEngine } from '../engine.js';
import { formatIssue } from '../format.js';
import { openEventStore } from '../runtime.js';

export function registerStandaloneCommand(program: Command): void {
  program
    .command('standalone')
    .description(
      'run the engine as a service: embedded Postgres (unless DATABASE_URL), scheduler and workers',
    )
    .option('--dags <dir>', 'folder of DAG files to register (and re-register when they change)', 'dags')
    .option('--rescan <ms>', 'how often to look for changed DAG files (0: only at start)', '5000')
    .option('--port <port>', 'serve the REST API on this port (env DAGRUN_PORT; 0: any free port)')
    .action(async (options: { dags: string; rescan: string; port?: string }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        // The flag goes through the same schema as DAGRUN_PORT.
        const port =
          options.port === undefined
            ? ctx.config.api.port
            : loadConfig({}, { DAGRUN_PORT: options.port }).api.port;
        mkdirSync(ctx.config.dataDir, { recursive: true });
        const tracing = await startTracing(ctx.config.tracing, 'standalone', { log: ctx.log });
        const db = await openLocalDatabase(ctx.config, ctx.log);
        const store = openEventStore(ctx.config, db.pool);
        const dagsDir = resolve(options.dags);
        // Served by the API's /metrics (with DAGRUN_PORT).
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        const engine = await startEngine({
          store,
          // Group commit batches through the Postgres store's pool; EventStoreDB appends one by one.
          coalesceAppends: ctx.config.eventStore.kind === 'postgres',
          pool: db.pool,
          log: ctx.log,
          baseDir: dagsDir,
          workers: ctx.config.workers.count,
          concurrency: ctx.config.workers.concurrency,
          claimAhead: ctx.config.workers.claimAhead,
          pythonInterpreter: ctx.config.workers.python,
          inheritedEnv: ctx.config.workers.inheritedEnv,
          metrics: registerDecisionMetrics(registry),
        });
        // The read models (runs, tasks, DLQ) follow the log in the same process.
        const projector = new Projector({ store, pool: db.pool, log: ctx.log, registry }).start();
        let api: ApiServer | undefined;
        if (port !== undefined) {
          api = await startApiServer({
            store,
            pool: db.pool,
            projector,
            engine,
            registry,
            log: ctx.log,
            api: { ...ctx.config.api, port },
            maxSpecBytes: ctx.config.maxSpecBytes,
          });
          ctx.log.info('API listening', { url: api.url });
        }
        ctx.log.info('standalone started', {
          database: db.embedded ? 'embedded' : 'external',
          dags: dagsDir,
        });
        ctx.out(`dagrun standalone: database ${redact(db.url)}; DAGs from ${dagsDir}`);
        if (api) ctx.out(`dagrun standalone: API on ${api.url} (docs at ${api.url}/docs)`);
        await registerFolder(ctx, store, dagsDir);
        const rescanMs = Number(options.rescan);
        const rescan =
          rescanMs > 0
            ? setInterval(() => void registerFolder(ctx, store, dagsDir).catch(() => {}), rescanMs)
            : undefined;
        const signal = await shutdownSignal().received;
        ctx.log.info('shutting down', { signal });
        clearInterval(rescan);
        await api?.close();
        await engine.stop();
        await projector.stop();
        await store.close();
        await db.close();
        await tracing.shutdown();
        ctx.log.info('standalone stopped');
        return 0;
      });
    });
}

const registeredHashes = new Map<string, string>();

/** Registers every valid DAG file in `dir`; reports invalid ones without stopping. */
async function registerFolder(ctx: CliContext, store: EventStore, dir: string): Promise<void> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch {
    ctx.log.warn('DAG folder not readable', { dir });
    return;
  }
  for (const file of files) {
    const result = await readDagFile(join(dir, file), ctx.config.maxSpecBytes);
    if (!result.ok) {
      const key = `${file}:${result.issues.map((i) => i.message).join('|')}`;
      if (registeredHashes.get(file) !== key) {
        registeredHashes.set(file, key);
        ctx.log.warn('invalid DAG file', { file, issues: result.issues.map((i) => formatIssue(i, file)) });
      }
      continue;
    }
    const registered = await registerDag({ store, metadata: commandMetadata(ctx) }, result.dag);
    if (registered.changed)
      ctx.log.info('dag registered', { file, dagId: registered.dagId, version: registered.version });
    registeredHashes.set(file, 'ok');
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
