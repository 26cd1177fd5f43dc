/** `dagrun migrate`: apply the schema; idempotent, and safe to run twice at once. */
import type { Command } from 'commander';
import { migrate } from '../../db/migrate.js';
import { createPool } from '../../db/pool.js';
import { type GlobalOptions, runAction } from '../context.js';
import { requireDatabaseUrl } from '../runtime.js';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or upgrade the event store and read-model schema')
    .action(async (_options: unknown, command: Command) => {
      await runAction(command.optsWithGlobals<GlobalOptions>(), async ({ config, log, out }) => {
        const pool = createPool(requireDatabaseUrl(config), { max: 1, applicationName: 'dagrun-migrate' });
        try {
          const report = await migrate(pool);
          log.info('migrations done', {
            applied: report.applied,
            alreadyApplied: report.alreadyApplied.length,
          });
          out(
            report.applied.length === 0
              ? `schema up to date (${report.alreadyApplied.length} migrations)`
              : `applied ${report.applied.join(', ')}`,
          );
        } finally {
          await pool.end();
        }
        return 0;
      });
    });
}
