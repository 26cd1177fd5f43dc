/**
 * What every subcommand shares: config parsed once, a logger, a correlation context (every log
 * line and every appended event of one command carries the same correlation id), and the mapping
 * of errors to exit codes: 0 success, 1 a problem with the input or the state, 2 bad usage or config.
 */
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../commands/index.js';
import { type Config, type ConfigFlags, loadConfigFromProcess } from '../config/index.js';
import { ConfigError, DagrunError } from '../errors.js';
import { createLogger, type Logger, withCorrelation } from '../observability/logger.js';
import { formatError } from './format.js';

/** Options every subcommand inherits from the top-level command. */
export interface GlobalOptions {
  readonly databaseUrl?: string;
  readonly logLevel?: string;
}

export interface CliContext {
  readonly config: Config;
  readonly log: Logger;
  readonly correlationId: string;
  /** Writes command output (not logs) to stdout. */
  readonly out: (line: string) => void;
}

/** Exit code for "the command ran and found a problem" (invalid input, conflict, not found). */
export const EXIT_PROBLEM = 1;
export const EXIT_USAGE = 2;

/** Runs a subcommand's body with config, logger and correlation id; sets the exit code. */
export async function runAction(
  globals: GlobalOptions,
  body: (ctx: CliContext) => Promise<number | undefined>,
  /** The subcommand's own flags, by the name of the setting they override (e.g. DAGRUN_PORT). */
  commandFlags: ConfigFlags = {},
): Promise<void> {
  const flags: ConfigFlags = {
    ...commandFlags,
    DATABASE_URL: globals.databaseUrl,
    DAGRUN_LOG_LEVEL: globals.logLevel,
  };
  let config: Config;
  try {
    config = loadConfigFromProcess(flags);
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const correlationId = randomUUID();
  const log = createLogger({ level: config.log.level, format: config.log.format, component: 'cli' });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  await withCorrelation({ correlationId }, async () => {
    try {
      process.exitCode = (await body({ config, log, correlationId, out })) ?? 0;
    } catch (error) {
      process.stderr.write(`${formatError(error)}\n`);
      if (!(error instanceof DagrunError)) log.error('command failed', { error: String(error) });
      process.exitCode = error instanceof ConfigError ? EXIT_USAGE : EXIT_PROBLEM;
    }
  });
  await new Promise<void>((resolve) => log.end(resolve));
}

/** Event metadata for commands run from the CLI. */
export function commandMetadata(ctx: CliContext): CommandContext['metadata'] {
  return { correlationId: ctx.correlationId, actor: 'cli' };
}
