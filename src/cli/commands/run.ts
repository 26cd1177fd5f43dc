/**
 * `dagrun run FILE.yaml [--param k=v]...`: register the DAG, start a run, execute it here with
 * live progress, and exit 0 if it succeeded (1 otherwise, after listing its dead letters).
 * Needs nothing but Node: without DATABASE_URL it runs on the embedded Postgres in the data dir.
 * Ctrl-C cancels the run (running tasks are killed); a second Ctrl-C exits at once.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { cancelRun, registerDag, requestRun } from '../../commands/index.js';
import { PostgresEventStore } from '../../events/postgres/index.js';
import { streams } from '../../events/schemas/index.js';
import { withSchemaValidation } from '../../events/validating-store.js';
import { createLogger } from '../../observability/logger.js';
import {
  ATTR,
  endSpan,
  startSpan,
  startTracing,
  traceparentOf,
  tracingEnabled,
} from '../../observability/tracing.js';
import { planFromDag } from '../../scheduler/core/plan.js';
import { PostgresAttemptLogStore } from '../../workers/attempt-logs.js';
import { commandMetadata, EXIT_PROBLEM, type GlobalOptions, runAction } from '../context.js';
import { readDagFileOrThrow } from '../dag-files.js';
import { openLocalDatabase, runLogFile } from '../database.js';
import { startEngine } from '../engine.js';
import { describeFailure, RunProgress } from '../progress.js';
import { collectParam } from './runs.js';

const FINAL = new Set(['RunSucceeded', 'RunFailed', 'RunCancelled']);

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a DAG file here and now, with live progress (embedded Postgres unless DATABASE_URL is set)',
    )
    .argument('<file>', 'YAML DAG file')
    .option('-p, --param <name=value>', 'a run param (repeatable)', collectParam, {})
    .option('--workers <n>', 'local workers (env DAGRUN_WORKERS)')
    .option('--concurrency <n>', 'slots per worker (env DAGRUN_WORKER_CONCURRENCY)')
    .action(
      async (
        file: string,
        options: { param: Record<string, string>; workers?: string; concurrency?: string },
        command: Command,
      ) => {
        const globals = command.optsWithGlobals<GlobalOptions>();
        await runAction(globals, async (ctx) => {
          const dag = await readDagFileOrThrow(file, ctx.config.maxSpecBytes);
          mkdirSync(ctx.config.dataDir, { recursive: true });
          // The terminal shows progress; the JSON logs go to a file.
          const fileLog = createLogger({
            level: ctx.config.log.level,
            component: 'run',
            file: runLogFile(ctx.config),
          });
          // With OTEL_TRACES_EXPORTER set, the whole run is one trace under a `dagrun run` span:
          // RunRequested carries its traceparent, as a request span's through the API.
          const tracing = await startTracing(ctx.config.tracing, 'run', { log: fileLog });
          const span = startSpan(`dagrun run ${dag.name}`, { attributes: { [ATTR.dagId]: dag.name } });
          const traceparent = tracingEnabled() ? traceparentOf(span) : undefined;
          const db = await openLocalDatabase(ctx.config, fileLog);
          const store = withSchemaValidation(new PostgresEventStore({ pool: db.pool }));
          const meta = {
            store,
            metadata: { ...commandMetadata(ctx), ...(traceparent ? { traceparent } : {}) },
          };
          let engine: Awaited<ReturnType<typeof startEngine>> | undefined;
          let outcome: string | undefined;
          try {
            const registered = await registerDag(meta, dag);
            const { runId } = await requestRun(meta, { dagId: dag.name, params: options.param });
            ctx.out(
              `${dag.name} v${registered.version}${db.embedded ? ' (embedded Postgres)' : ''} · run ${runId} · logs ${runLogFile(ctx.config)}`,
            );
            engine = await startEngine({
              store,
              pool: db.pool,
              log: fileLog,
              baseDir: resolve(dirname(file)),
              workers: options.workers ? Number(options.workers) : ctx.config.workers.count,
              concurrency: options.concurrency ? Number(options.concurrency) : ctx.config.workers.concurrency,
              claimAhead: ctx.config.workers.claimAhead,
              pythonInterpreter: ctx.config.workers.python,
              inheritedEnv: ctx.config.workers.inheritedEnv,
            });
            const progress = new RunProgress(runId, planFromDag(dag), {
              write: (text) => process.stdout.write(text),
              tty: process.stdout.isTTY === true,
              columns: process.stdout.columns,
            });
            let interrupts = 0;
            const onInterrupt = () => {
              interrupts++;
              if (interrupts > 1) process.exit(130);
              process.stderr.write('\ncancelling the run (Ctrl-C again to exit at once)…\n');
              void cancelRun(meta, runId, 'interrupted').catch(() => {});
            };
            process.on('SIGINT', onInterrupt);
            process.on('SIGTERM', onInterrupt);
            const subscription = store.subscribe({
              from: 'start',
              streamPrefixes: [streams.run(runId), `attempt-${runId}-`],
            });
            const ticker = setInterval(() => progress.render(), 250);
            let final = '';
            try {
              for await (const event of subscription) {
                progress.apply(event);
                progress.render();
                if (event.streamName === streams.run(runId) && FINAL.has(event.type)) {
                  final = event.type;
                  break;
                }
              }
            } finally {
              clearInterval(ticker);
              process.off('SIGINT', onInterrupt);
              process.off('SIGTERM', onInterrupt);
              await subscription.close();
            }
            progress.render(true);
            await printFailures(ctx.out, progress, new PostgresAttemptLogStore(db.pool));
            outcome = final;
            ctx.out(
              final === 'RunSucceeded'
                ? 'run succeeded'
                : `run ${final === 'RunFailed' ? 'failed' : 'cancelled'}`,
            );
            return final === 'RunSucceeded' ? 0 : EXIT_PROBLEM;
          } finally {
            await engine?.stop();
            endSpan(span, outcome === 'RunSucceeded' ? undefined : `run ${outcome ?? 'interrupted'}`);
            await tracing.shutdown();
            await store.close();
            await db.close();
            await new Promise<void>((r) => fileLog.end(r));
          }
        });
      },
    );
}

/** Lists the dead-lettered tasks (the run's DLQ items) with their error and the tail of stderr. */
async function printFailures(
  out: (line: string) => void,
  progress: RunProgress,
  logs: PostgresAttemptLogStore,
) {
  const dead = [...progress.state.tasks.values()].filter((t) => t.status === 'dead_lettered');
  if (dead.length === 0) return;
  out(`dead-letter queue (${dead.length}):`);
  for (const task of dead) {
    const failure = task.lastFailure;
    out(`  ${task.plan.id} · attempt ${task.attempt} · ${failure ? describeFailure(failure) : 'failed'}`);
    const captured = await logs.load({
      runId: progress.state.runId,
      taskId: task.plan.id,
      attempt: task.attempt,
    });
    const stderr = captured ? (captured.stderr.tail || captured.stderr.head).trimEnd() : '';
    for (const line of stderr.split('\n').slice(-5)) if (line) out(`    │ ${line}`);
  }
}
