/** `dagrun replay` through commander, in process: it rebuilds, reports, and refuses when busy. */
import { Command, Option } from 'commander';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerReplayCommand } from '../../../src/cli/commands/replay.js';
import { Projector } from '../../../src/projections/index.js';
import { createTestDatabase } from '../../support/database.js';
import { testStore } from '../../support/engine.js';
import { catchUp, projectedEventCount } from './support.js';
import { appendRuns, registerSyntheticDag } from './synthetic.js';

const db = await createTestDatabase();
const store = testStore(db);

/** Runs `dagrun --database-url … replay`, capturing stdout and stderr. */
async function replay(): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command()
    .addOption(new Option('--database-url <url>'))
    .addOption(new Option('--log-level <level>'))
    .exitOverride();
  registerReplayCommand(program);
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'dagrun', '--database-url', db.url, '--log-level', 'error', 'replay']);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  await registerSyntheticDag(store, 'cli');
  await appendRuns(store, 'cli', 5, new Date('2033-01-01T00:00:00Z'));
});
afterEach(() => {
  process.exitCode = undefined;
});

describe('dagrun replay', () => {
  it('rebuilds the read models and says how many events it applied', async () => {
    await db.pool.query('DELETE FROM runs');
    const result = await replay();
    const events = await projectedEventCount(store);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^rebuilt the read models from ${events} events in \\d+ ms`));
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM runs');
    expect(rows).toEqual([{ n: 5 }]);
  });

  it('refuses to run beside a projector', async () => {
    const projector = new Projector({ store, pool: db.pool }).start();
    try {
      await catchUp(projector, store);
      const result = await replay();
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('projection_busy');
    } finally {
      await projector.stop();
    }
  });
});
