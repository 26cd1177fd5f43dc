import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, withCorrelation } from '../../../src/observability/logger.js';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { stream, lines };
}

describe('logger', () => {
  it('writes JSON lines that carry the correlation context across awaits', async () => {
    const { stream, lines } = capture();
    const log = createLogger({ stream, component: 'test' });
    await withCorrelation({ correlationId: 'c-1' }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      await withCorrelation({ runId: 'r-1', taskId: 't', attempt: 2 }, async () => {
        await Promise.resolve();
        log.info('inner');
      });
      log.info('outer');
    });
    log.info('outside');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l['message'], l['correlationId'], l['runId'], l['attempt']])).toEqual([
      ['inner', 'c-1', 'r-1', 2],
      ['outer', 'c-1', undefined, undefined],
      ['outside', undefined, undefined, undefined],
    ]);
    expect(lines[0]).toMatchObject({ level: 'info', component: 'test', taskId: 't' });
    expect(typeof lines[0]?.['timestamp']).toBe('string');
  });

  it('keeps explicit fields over the ambient context', async () => {
    const { stream, lines } = capture();
    const log = createLogger({ stream });
    withCorrelation({ runId: 'ambient' }, () => log.info('x', { runId: 'explicit' }));
    await new Promise((r) => setImmediate(r));
    expect(lines[0]?.['runId']).toBe('explicit');
  });
});
