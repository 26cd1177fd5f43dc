/** The `dagrun` command: subcommands live in ./commands, their shared plumbing in ./context.ts. */
import { Command, Option } from 'commander';
import { registerDagCommands } from './commands/dags.js';
import { registerDlqCommands } from './commands/dlq.js';
import { registerEventsCommand } from './commands/events.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunCommands } from './commands/runs.js';
import { registerSchedulerCommand } from './commands/scheduler.js';
import { registerStandaloneCommand } from './commands/standalone.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerWorkerCommand } from './commands/worker.js';
import { EXIT_USAGE } from './context.js';

const program = new Command()
  .name('dagrun')
  .description('A fault-tolerant, event-sourced DAG task orchestrator')
  .addOption(new Option('--database-url <url>', 'Postgres URL (env DATABASE_URL)'))
  .addOption(new Option('--log-level <level>', 'error | warn | info | debug (env DAGRUN_LOG_LEVEL)'))
  .showHelpAfterError()
  .exitOverride();

registerRunCommand(program);
registerStandaloneCommand(program);
registerSchedulerCommand(program);
registerWorkerCommand(program);
registerValidateCommand(program);
registerMigrateCommand(program);
registerDagCommands(program);
registerRunCommands(program);
registerEventsCommand(program);
registerDlqCommands(program);
registerReplayCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // commander throws on --help/--version (exit 0) and on usage errors, after printing them.
  const code = (error as { exitCode?: number }).exitCode;
  process.exitCode = code === 0 ? 0 : EXIT_USAGE;
}
