/** `dagrun runs request|cancel`. */
import type { Command } from 'commander';
import { cancelRun, requestRun } from '../../commands/index.js';
import { ValidationError } from '../../errors.js';
import { commandMetadata, type GlobalOptions, runAction } from '../context.js';
import { withStore } from '../runtime.js';

/** `--param k=v`, repeatable; values are strings here and get coerced to the declared type. */
export function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) {
    throw new ValidationError('invalid --param', [
      { path: 'params', kind: 'invalid_param', message: `--param ${value}: expected name=value` },
    ]);
  }
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('request and cancel runs');

  runs
    .command('request')
    .description('request a run of a registered DAG')
    .argument('<dagId>')
    .option('-p, --param <name=value>', 'a run param (repeatable)', collectParam, {})
    .option('--idempotency-key <key>', 'the same key with the same params returns the same run')
    .action(
      async (
        dagId: string,
        options: { param: Record<string, string>; idempotencyKey?: string },
        command: Command,
      ) => {
        await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
          const result = await withStore(ctx.config, (store) =>
            requestRun(
              { store, metadata: commandMetadata(ctx) },
              { dagId, params: options.param, idempotencyKey: options.idempotencyKey },
            ),
          );
          ctx.log.info('run requested', { dagId, runId: result.runId, created: result.created });
          ctx.out(`${result.runId}${result.created ? '' : ' (existing run for this idempotency key)'}`);
          return 0;
        });
      },
    );

  runs
    .command('cancel')
    .description('cancel a run that has not finished')
    .argument('<runId>')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (runId: string, options: { reason?: string }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const result = await withStore(ctx.config, (store) =>
          cancelRun({ store, metadata: commandMetadata(ctx) }, runId, options.reason),
        );
        ctx.out(`${runId}: cancel ${result.changed ? 'requested' : 'already requested'}`);
        return 0;
      });
    });
}
