/** EventBatcher over plain async iterators: sizes, the window, the end, and nothing lost. */
import { describe, expect, it } from 'vitest';
import type { GlobalPosition, RecordedEvent } from '../../../src/events/types.js';
import { EventBatcher } from '../../../src/projections/batcher.js';

function event(n: number): RecordedEvent {
  return {
    id: `id-${n}`,
    streamName: 'run-x',
    revision: n,
    position: String(n).padStart(4, '0') as GlobalPosition,
    type: 'T',
    data: {},
    metadata: { correlationId: 'c', causationId: 'c', actor: 'a' },
    createdAt: new Date(0),
  };
}

/** Yields `bursts` of events with `gapMs` between bursts. */
async function* bursts(sizes: number[], gapMs: number): AsyncGenerator<RecordedEvent> {
  let n = 0;
  for (const [i, size] of sizes.entries()) {
    if (i > 0) await new Promise((r) => setTimeout(r, gapMs));
    for (let k = 0; k < size; k++) yield event(n++);
  }
}

const numbers = (events: RecordedEvent[]) => events.map((e) => e.revision);

describe('EventBatcher', () => {
  it('fills batches up to the maximum while events are ready', async () => {
    const batcher = new EventBatcher(bursts([7], 0), 3, 50);
    const a = await batcher.next();
    const b = await batcher.next();
    const c = await batcher.next();
    expect([numbers(a.events), a.drained, a.ended]).toEqual([[0, 1, 2], false, false]);
    expect([numbers(b.events), b.drained, b.ended]).toEqual([[3, 4, 5], false, false]);
    expect([numbers(c.events), c.ended]).toEqual([[6], true]);
    expect(await batcher.next()).toEqual({ events: [], drained: true, ended: true });
  });

  it('closes a batch when nothing more comes within the window, and keeps the pending read', async () => {
    const batcher = new EventBatcher(bursts([2, 2, 1], 60), 10, 5);
    const first = await batcher.next();
    expect([numbers(first.events), first.drained, first.ended]).toEqual([[0, 1], true, false]);
    const second = await batcher.next();
    expect([numbers(second.events), second.drained, second.ended]).toEqual([[2, 3], true, false]);
    const third = await batcher.next();
    expect(numbers(third.events)).toEqual([4]);
  });

  it('takes events the source already holds even when the window is zero', async () => {
    const batcher = new EventBatcher(bursts([4], 0), 10, 0);
    expect(numbers((await batcher.next()).events)).toEqual([0, 1, 2, 3]);
  });

  it('passes on a failure of the source', async () => {
    async function* failing(): AsyncGenerator<RecordedEvent> {
      yield event(0);
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('read failed');
    }
    const batcher = new EventBatcher(failing(), 10, 1);
    expect(numbers((await batcher.next()).events)).toEqual([0]);
    await expect(batcher.next()).rejects.toThrow('read failed');
  });

  it('rejects nonsense sizes', () => {
    expect(() => new EventBatcher(bursts([], 0), 0, 5)).toThrow(RangeError);
    expect(() => new EventBatcher(bursts([], 0), 1, -1)).toThrow(RangeError);
  });
});
