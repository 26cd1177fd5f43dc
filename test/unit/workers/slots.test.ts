import { describe, expect, it } from 'vitest';
import { Slots } from '../../../src/workers/slots.js';

const far = () => performance.now() + 60_000;

describe('Slots', () => {
  it('grants free slots at once, then queues claims oldest first', async () => {
    const slots = new Slots(2);
    expect(slots.acquire(far())).toBe('granted');
    expect(slots.acquire(far())).toBe('granted');
    const order: string[] = [];
    const second = Promise.resolve(slots.acquire(far())).then((g) => order.push(`a:${g}`));
    const third = Promise.resolve(slots.acquire(far())).then((g) => order.push(`b:${g}`));
    expect(slots.waiting).toBe(2);
    slots.release();
    await second;
    expect(order).toEqual(['a:granted']);
    expect(slots.running).toBe(2);
    slots.release();
    await third;
    expect(order).toEqual(['a:granted', 'b:granted']);
    expect(slots.waiting).toBe(0);
  });

  it('does not let a new claim overtake one that waits', async () => {
    const slots = new Slots(1);
    slots.acquire(far());
    const waiting = slots.acquire(far());
    slots.release();
    // The freed slot went to the waiter; a newcomer queues behind.
    expect(slots.acquire(far())).toBeInstanceOf(Promise);
    expect(await waiting).toBe('granted');
  });

  it('sends a waiter away once its start deadline passes, without a release', async () => {
    const slots = new Slots(1);
    slots.acquire(far());
    const started = performance.now();
    expect(await slots.acquire(performance.now() + 30)).toBe('expired');
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(slots.waiting).toBe(0);
    expect(slots.running).toBe(1);
  });

  it('skips expired waiters when a slot frees, and gives it to the next one in time', async () => {
    const slots = new Slots(1);
    slots.acquire(far());
    const late = slots.acquire(performance.now() + 5);
    const inTime = slots.acquire(far());
    await new Promise((r) => setTimeout(r, 20));
    slots.release();
    expect(await late).toBe('expired');
    expect(await inTime).toBe('granted');
  });

  it('refuses a claim whose deadline has already passed when no slot is free', () => {
    const slots = new Slots(1);
    slots.acquire(far());
    expect(slots.acquire(performance.now() - 1)).toBe('expired');
  });

  it('withdraws every waiter on drain', async () => {
    const slots = new Slots(1);
    slots.acquire(far());
    const a = slots.acquire(far());
    const b = slots.acquire(far());
    slots.withdrawAll();
    expect(await a).toBe('withdrawn');
    expect(await b).toBe('withdrawn');
    expect(slots.waiting).toBe(0);
  });
});
