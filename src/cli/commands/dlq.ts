/** `dagrun dlq retry|discard` and `dagrun logs`: act on dead letters, read an attempt's output. */
import type { Command } from 'commander';
import { discardDeadLetter, retryDeadLetter } from '../../commands/index.js';
import { ValidationError } from '../../errors.js';
import { PostgresAttemptLogStore } from '../../workers/attempt-logs.js';
import { commandMetadata, EXIT_PROBLEM, type GlobalOptions, runAction } from '../context.js';
import { openRuntime, withStore } from '../runtime.js';

export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description('retry or discard dead-lettered tasks');
  for (const [name, description, handler] of [
    ['retry', 'queue a new attempt of a dead-lettered task (its downstream runs again)', retryDeadLetter],
    ['discard', 'close a dead-letter item without retrying', discardDeadLetter],
  ] as const) {
    dlq
      .command(name)
      .description(description)
      .argument('<runId>')
      .argument('<taskId>')
      .action(async (runId: string, taskId: string, _options: unknown, command: Command) => {
        await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
          await withStore(ctx.config, (store) =>
            handler({ store, metadata: commandMetadata(ctx) }, runId, taskId),
          );
          ctx.out(`${runId} ${taskId}: ${name === 'retry' ? 'requeued' : 'discarded'}`);
          return 0;
        });
      });
  }

  program
    .command('logs')
    .description("print an attempt's captured stdout and stderr")
    .argument('<runId>')
    .argument('<taskId>')
    .option('--attempt <n>', 'attempt number', '1')
    .action(async (runId: string, taskId: string, options: { attempt: string }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const attempt = Number(options.attempt);
        if (!Number.isInteger(attempt) || attempt < 1) {
          throw new ValidationError('invalid --attempt', [
            {
              path: 'attempt',
              kind: 'invalid_value',
              message: `--attempt ${options.attempt}: expected 1, 2, …`,
            },
          ]);
        }
        const runtime = await openRuntime(ctx.config);
        try {
          const logs = await new PostgresAttemptLogStore(runtime.pool).load({ runId, taskId, attempt });
          if (!logs) {
            ctx.out(`no logs for ${runId} ${taskId} attempt ${attempt}`);
            return EXIT_PROBLEM;
          }
          for (const [name, text] of Object.entries(logs)) {
            ctx.out(`── ${name} (${text.totalBytes} bytes${text.truncated ? ', middle truncated' : ''})`);
            ctx.out(text.truncated ? `${text.head}\n…\n${text.tail}` : text.head + text.tail);
          }
          return 0;
        } finally {
          await runtime.close();
        }
      });
    });
}
