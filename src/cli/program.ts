/**
 * The `dagrun` command tree: every subcommand registered on one commander program, built without
 * being parsed — so tests (test/unit/deploy/compose.test.ts) can check the real commands and
 * flags that docker-compose.yml passes. main.ts parses it.
 */
import { Command, Option } from 'commander';
import { registerApiCommand } from './commands/api.js';
import { registerDagCommands } from './commands/dags.js';
import { registerDlqCommands } from './commands/dlq.js';
import { registerEventsCommand } from './commands/events.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerProjectorCommand } from './commands/projector.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunCommands } from './commands/runs.js';
import { registerSchedulerCommand } from './commands/scheduler.js';
import { registerStandaloneCommand } from './commands/standalone.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerWorkerCommand } from './commands/worker.js';

/** A fresh `dagrun` program with every subcommand; nothing runs until it is parsed. */
export function buildProgram(): Command {
  const program = new Command()
    .name('dagrun')
    .description('A fault-tolerant, event-sourced DAG task orchestrator')
    .addOption(new Option('--database-url <url>', 'Postgres URL (env DATABASE_URL)'))
    .addOption(new Option('--log-level <level>', 'error | warn | info | debug (env DAGRUN_LOG_LEVEL)'))
    .showHelpAfterError()
    .exitOverride();

  registerRunCommand(program);
  registerStandaloneCommand(program);
  registerApiCommand(program);
  registerProjectorCommand(program);
  registerSchedulerCommand(program);
  registerWorkerCommand(program);
  registerValidateCommand(program);
  registerMigrateCommand(program);
  registerDagCommands(program);
  registerRunCommands(program);
  registerEventsCommand(program);
  registerDlqCommands(program);
  registerReplayCommand(program);
  return program;
}
