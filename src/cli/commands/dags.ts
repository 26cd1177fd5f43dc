/** `dagrun dags register|pause|resume`. */
import type { Command } from 'commander';
import { pauseDag, registerDag, resumeDag } from '../../commands/index.js';
import type { NormalizedDag } from '../../dag/index.js';
import { commandMetadata, type GlobalOptions, runAction } from '../context.js';
import { readDagFileOrThrow } from '../dag-files.js';
import { withStore } from '../runtime.js';

export function registerDagCommands(program: Command): void {
  const dags = program.command('dags').description('register, pause and resume DAGs');

  dags
    .command('register')
    .description('register DAG files; a new version is published only when the spec changed')
    .argument('<files...>', 'YAML DAG files')
    .action(async (files: string[], _options: unknown, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const specs: NormalizedDag[] = [];
        for (const file of files) specs.push(await readDagFileOrThrow(file, ctx.config.maxSpecBytes));
        await withStore(ctx.config, async (store) => {
          for (const spec of specs) {
            const result = await registerDag({ store, metadata: commandMetadata(ctx) }, spec);
            ctx.log.info('dag registered', {
              dagId: result.dagId,
              version: result.version,
              changed: result.changed,
            });
            ctx.out(`${result.dagId}: version ${result.version}${result.changed ? '' : ' (unchanged)'}`);
          }
        });
        return 0;
      });
    });

  dags
    .command('pause')
    .description('stop new runs of a DAG')
    .argument('<dagId>')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (dagId: string, options: { reason?: string }, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const result = await withStore(ctx.config, (store) =>
          pauseDag({ store, metadata: commandMetadata(ctx) }, dagId, options.reason),
        );
        ctx.out(`${dagId}: ${result.status}${result.changed ? '' : ' (already)'}`);
        return 0;
      });
    });

  dags
    .command('resume')
    .description('allow new runs of a paused DAG')
    .argument('<dagId>')
    .action(async (dagId: string, _options: unknown, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async (ctx) => {
        const result = await withStore(ctx.config, (store) =>
          resumeDag({ store, metadata: commandMetadata(ctx) }, dagId),
        );
        ctx.out(`${dagId}: ${result.status}${result.changed ? '' : ' (already)'}`);
        return 0;
      });
    });
}
