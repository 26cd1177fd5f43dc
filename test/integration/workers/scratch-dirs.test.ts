/**
 * Scratch directories left by a worker that died: a starting worker removes those of processes
 * that are gone, and leaves its own, a live process's, and anything not named like one.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeScratchDir, sweepOrphanScratchDirs } from '../../../src/workers/scratch-dirs.js';

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('scratch directories', () => {
  it('are named after their process, and a sweep removes only those of dead processes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dagrun-scratch-test-'));
    const mine = await makeScratchDir(root);
    expect(mine).toContain(`dagrun-attempt-${process.pid}-`);
    const dead = join(root, `dagrun-attempt-${await deadPid()}-abc123`);
    await mkdir(dead);
    await writeFile(join(dead, 'output.json'), '{}');
    const sleeper = spawn('sleep', ['30']);
    const live = join(root, `dagrun-attempt-${sleeper.pid}-def456`);
    await mkdir(live);
    const unrelated = join(root, 'dagrun-attempt-legacy');
    await mkdir(unrelated);
    try {
      expect(await sweepOrphanScratchDirs(root)).toBe(1);
      const left = (await readdir(root)).sort();
      expect(left).toEqual([mine, live, unrelated].map((p) => p.slice(root.length + 1)).sort());
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
