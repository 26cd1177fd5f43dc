/** `dagrun events`: print the log (one stream, a category, or all) as JSON lines. */
import type { Command } from 'commander';
import type { GlobalPosition, RecordedEvent } from '../../events/types.js';
import { type GlobalOptions, runAction } from '../context.js';
import { withStore } from '../runtime.js';

export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description('print events as JSON lines, in stream order (--stream) or the global order')
    .option('--stream <name>', 'one stream, e.g. dag-data-pipeline or run-<id>')
    .option('--prefix <prefix>', 'streams whose name starts with this, e.g. run-')
    .option('--after <position>', 'global position to start after')
    .option('--limit <n>', 'at most this many events', (v) => Number.parseInt(v, 10), 1000)
    .action(
      async (
        options: { stream?: string; prefix?: string; after?: string; limit: number },
        command: Command,
      ) => {
        await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
          const events: RecordedEvent[] = await withStore(ctx.config, (store) =>
            options.stream
              ? store.readStream(options.stream, { maxCount: options.limit })
              : store.readAll({
                  maxCount: options.limit,
                  after: options.after as GlobalPosition | undefined,
                  ...(options.prefix ? { streamPrefixes: [options.prefix] } : {}),
                }),
          );
          for (const event of events) ctx.out(JSON.stringify(event));
          return 0;
        });
      },
    );
}
