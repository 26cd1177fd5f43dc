/**
 * `dagrun replay`: rebuild every read model from the event log. Run it with projectors stopped:
 * it holds the projection's lock throughout and refuses to start while a projector or another
 * replay holds it; a projector started meanwhile waits, then resumes from the rebuilt checkpoint.
 */
import type { Command } from 'commander';
import { replayReadModels } from '../../projections/replay.js';
import { type GlobalOptions, runAction } from '../context.js';
import { openRuntime } from '../runtime.js';

/** How often a long replay logs its progress. */
const PROGRESS_EVERY_MS = 5_000;

/** Registers `dagrun replay [--batch-size n]`. */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('rebuild every read model from the event log (stop projectors first)')
    .option('--batch-size <n>', 'events per read and per transaction', (v) => Number.parseInt(v, 10), 1000)
    .action(async (options: { batchSize: number }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async ({ config, log, out }) => {
        const runtime = await openRuntime(config);
        try {
          let lastLog = performance.now();
          const report = await replayReadModels({
            store: runtime.store,
            pool: runtime.pool,
            batchSize: options.batchSize,
            onProgress: ({ events, position }) => {
              if (performance.now() - lastLog < PROGRESS_EVERY_MS) return;
              lastLog = performance.now();
              log.info('replay progress', { events, position });
            },
          });
          const rate = report.durationMs > 0 ? Math.round((report.events / report.durationMs) * 1000) : 0;
          log.info('replay done', { ...report });
          out(
            `rebuilt the read models from ${report.events} events in ${Math.round(report.durationMs)} ms ` +
              `(${rate} events/s); checkpoint ${report.position}`,
          );
        } finally {
          await runtime.close();
        }
        return 0;
      });
    });
}
