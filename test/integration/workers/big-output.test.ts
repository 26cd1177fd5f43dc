/**
 * A task that prints a gigabyte must not cost the worker more than a few megabytes: output is
 * streamed into fixed-size buffers and counted, never accumulated.
 */
import { describe, expect, it } from 'vitest';
import { ShellExecutor } from '../../../src/workers/executors/shell.js';
import { attemptOf, workerEnv } from './attempt-fixture.js';

const executor = new ShellExecutor({ inheritedEnv: workerEnv });
const gigabyte = 1_000_000_000;
const mib = 1024 * 1024;

describe('bounded capture of a big output', () => {
  it('runs a task printing 1e9 bytes with RSS rising by less than 32 MB', { timeout: 60_000 }, async () => {
    // Warm up the code paths (and their allocations) before measuring the baseline.
    await executor.execute(await attemptOf({ type: 'shell', command: 'head -c 1000000 /dev/zero' }));
    const request = await attemptOf(
      { type: 'shell', command: `head -c ${gigabyte} /dev/zero | tr '\\0' 'a'; printf 'END' >&2` },
      { timeoutMs: 50_000 },
    );
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    try {
      const result = await executor.execute(request);
      peak = Math.max(peak, process.memoryUsage().rss);
      const seconds = (performance.now() - started) / 1000;
      const rise = (peak - baseline) / mib;
      console.info(`[measure] 1e9 bytes in ${seconds.toFixed(1)} s; RSS rise ${rise.toFixed(1)} MiB`);

      expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(result.stdout.totalBytes).toBe(gigabyte);
      expect(result.stdout.truncated).toBe(true);
      expect(result.stdout.head).toBe('a'.repeat(64 * 1024));
      expect(result.stdout.tail).toBe('a'.repeat(64 * 1024));
      expect(result.stderr).toEqual({ head: 'END', tail: '', totalBytes: 3, truncated: false });
      expect(peak - baseline).toBeLessThan(32 * mib);
    } finally {
      clearInterval(sampler);
    }
  });
});
