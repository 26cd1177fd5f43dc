/**
 * The `dagrun` command: the program (every subcommand) is built in ./program.ts, the subcommands
 * live in ./commands, their shared plumbing in ./context.ts. This file only parses.
 */
import { EXIT_USAGE } from './context.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // commander throws on --help/--version (exit 0) and on usage errors, after printing them.
  const code = (error as { exitCode?: number }).exitCode;
  process.exitCode = code === 0 ? 0 : EXIT_USAGE;
}
