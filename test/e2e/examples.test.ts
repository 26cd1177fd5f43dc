/** The shipped examples run as documented: real shell, real Python, a real HTTP server. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dagrun } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';

const db = await createTestDatabase();
const env = async () => ({
  DATABASE_URL: db.url,
  DAGRUN_DATA_DIR: join(await mkdtemp(join(tmpdir(), 'dagrun-ex-')), 'd'),
});

describe('examples', () => {
  it('data-pipeline: extract → Python transform → HTTP load into the local warehouse', async () => {
    const result = await dagrun(['run', 'examples/data-pipeline/pipeline.yaml'], await env(), 90_000);
    expect(result.stdout).toMatch(/✔ load\s+succeeded/);
    expect(result.stdout).toMatch(/✔ stop-warehouse\s+succeeded/);
    expect(result.stdout).toMatch(/run succeeded\n$/);
    expect(result.code).toBe(0);
  });

  it('fan-out-fan-in: eight shards, then the merge', async () => {
    const result = await dagrun(['run', 'examples/fan-out-fan-in.yaml'], await env(), 90_000);
    expect(result.stdout.match(/✔ shard-\d\s+succeeded/g)?.length).toBe(8);
    expect(result.stdout).toMatch(/✔ merge\s+succeeded/);
    expect(result.code).toBe(0);
  });

  it('dead-letter: three attempts, a dead letter, cleanup still runs, exit 1', async () => {
    const result = await dagrun(['run', 'examples/dead-letter.yaml'], await env(), 90_000);
    expect(result.stdout).toMatch(/fetch · attempt 3 · exit_code: exited with code 75/);
    expect(result.stdout).toMatch(/│ upstream API returned 503/);
    expect(result.stdout).toMatch(/✔ cleanup\s+succeeded/);
    expect(result.code).toBe(1);
  });
});
