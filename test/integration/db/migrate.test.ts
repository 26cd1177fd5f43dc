import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '../../../src/db/migrate.js';
import { createTestDatabase } from '../../support/database.js';

describe('migrate', () => {
  it('applies every migration once, even when two run at the same time', async () => {
    const { pool } = await createTestDatabase({ empty: true });
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThan(0);

    const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
    // One run applied everything; the other waited on the lock and found nothing left.
    expect([a.applied, b.applied].sort((x, y) => y.length - x.length)).toEqual([files, []]);

    const again = await migrate(pool);
    expect(again).toEqual({ applied: [], alreadyApplied: files });
    const { rows } = await pool.query<{ name: string }>('SELECT name FROM dagrun_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(files);
  });

  it('rolls a failing migration back whole', async () => {
    const { pool } = await createTestDatabase({ empty: true });
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-mig-'));
    await writeFile(join(dir, '0001_ok.sql'), 'CREATE TABLE ok_table (id int);');
    await writeFile(join(dir, '0002_bad.sql'), 'CREATE TABLE half (id int); SELECT no_such_function();');
    await expect(migrate(pool, dir)).rejects.toThrow(/no_such_function/);
    const { rows } = await pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_name IN ('ok_table', 'half', 'dagrun_migrations')",
    );
    expect(rows).toEqual([]);
  });
});
