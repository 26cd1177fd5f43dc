/** `dagrun validate` as a user runs it: real files, real process, exit codes and messages. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dagrun } from '../support/cli.js';

describe('dagrun validate', () => {
  it('accepts the seed example', async () => {
    const result = await dagrun(['validate', 'examples/data-pipeline.yaml']);
    expect(result.stdout).toBe('examples/data-pipeline.yaml: ok (data-pipeline, 3 tasks)\n');
    expect(result.code).toBe(0);
  });

  it('prints every error with file:line:column and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dagrun-validate-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'name: bad',
        'tasks:',
        '  - id: a',
        '    type: shell',
        '    command: "true"',
        '    dependencies: [c]',
        '  - id: b',
        '    type: shell',
        '    command: "true"',
        '    dependecies: [a]',
        '  - id: c',
        '    type: shell',
        '    command: "true"',
        '    dependencies: [a]',
        '',
      ].join('\n'),
    );
    const result = await dagrun(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${file}:10:5: tasks[1].dependecies`);
    expect(result.stdout).toMatch(/did you mean 'dependencies'/);
    expect(result.stdout).toMatch(/a → c → a/);
  });

  it('prints the normalized graph as JSON', async () => {
    const result = await dagrun(['validate', '--json', 'examples/data-pipeline.yaml']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.ok).toBe(true);
    expect(parsed.dag.topologicalOrder).toEqual(['extract', 'transform', 'load']);
  });

  it('exits 1 for a missing file and 2 for bad usage', async () => {
    expect((await dagrun(['validate', 'no-such.yaml'])).code).toBe(1);
    expect((await dagrun(['validate'])).code).toBe(2);
  });
});
