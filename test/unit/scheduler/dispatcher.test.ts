import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../src/scheduler/dispatcher.js';
import type { WorkItem } from '../../../src/scheduler/work-source.js';

const item = (taskId: string, labels: string[] = []): WorkItem => ({
  runId: 'r',
  taskId,
  attempt: 1,
  dagId: 'd',
  dagVersion: 1,
  task: {
    type: 'shell',
    id: taskId,
    command: 'true',
    cwd: null,
    description: null,
    dependencies: [],
    timeoutMs: 1000,
    retry: { maxAttempts: 1, backoff: 'fixed', initialDelayMs: 0, maxDelayMs: 0, jitter: 0, retryOn: [] },
    env: {},
    triggerRule: 'all_success',
    labels,
  },
  labels,
  params: {},
  upstream: {},
  term: 1,
});
const ids = (r: { items: WorkItem[] }) => r.items.map((i) => i.taskId);
const now = { waitMs: 0 };

describe('Dispatcher', () => {
  it('assigns each attempt to the least-loaded worker, relative to its capacity', async () => {
    const d = new Dispatcher({ maxBacklog: 100, stealing: false });
    await d.join({ id: 'big', capacity: 4, labels: [] });
    await d.join({ id: 'small', capacity: 1, labels: [] });
    for (const t of ['a', 'b', 'c', 'd', 'e']) d.enqueue(item(t));
    expect(ids(await d.poll('big', 10, now))).toEqual(['a', 'c', 'd', 'e']);
    expect(ids(await d.poll('small', 10, now))).toEqual(['b']);
  });

  it('hands out no more than the worker’s credits', async () => {
    const d = new Dispatcher({ maxBacklog: 100 });
    await d.join({ id: 'w', capacity: 2, labels: [] });
    for (const t of ['a', 'b', 'c']) d.enqueue(item(t));
    expect(ids(await d.poll('w', 2, now))).toEqual(['a', 'b']);
    // Handed out but not claimed yet: still part of the backlog until the claim is seen.
    expect(d.backlog).toBe(3);
    d.settled({ runId: 'r', taskId: 'a', attempt: 1 });
    d.settled({ runId: 'r', taskId: 'b', attempt: 1 });
    expect(d.backlog).toBe(1);
  });

  it('lets an idle worker steal from the tail of the busiest deque', async () => {
    const d = new Dispatcher({ maxBacklog: 100, stealing: true });
    await d.join({ id: 'w1', capacity: 1, labels: [] });
    for (const t of ['a', 'b', 'c']) d.enqueue(item(t));
    await d.join({ id: 'w2', capacity: 1, labels: [] });
    expect(ids(await d.poll('w2', 1, now))).toEqual(['c']);
    expect(ids(await d.poll('w1', 1, now))).toEqual(['a']);
  });

  it('does not steal when stealing is off', async () => {
    const d = new Dispatcher({ maxBacklog: 100, stealing: false });
    await d.join({ id: 'w1', capacity: 1, labels: [] });
    d.enqueue(item('a'));
    await d.join({ id: 'w2', capacity: 1, labels: [] });
    expect(ids(await d.poll('w2', 1, now))).toEqual([]);
  });

  it('gives a labelled attempt only to a worker with those labels, and holds it until one joins', async () => {
    const d = new Dispatcher({ maxBacklog: 100 });
    await d.join({ id: 'cpu', capacity: 4, labels: [] });
    d.enqueue(item('train', ['gpu']));
    expect(ids(await d.poll('cpu', 4, now))).toEqual([]);
    await d.join({ id: 'gpu', capacity: 1, labels: ['gpu', 'big'] });
    expect(ids(await d.poll('gpu', 1, now))).toEqual(['train']);
  });

  it('bounds the backlog and reports room as attempts are claimed', async () => {
    let room = 0;
    const d = new Dispatcher({ maxBacklog: 2, onRoom: () => room++ });
    await d.join({ id: 'w', capacity: 1, labels: [] });
    d.enqueue(item('a'));
    d.enqueue(item('b'));
    expect(d.budget()).toBe(0);
    await d.poll('w', 1, now);
    expect(d.budget()).toBe(0);
    d.settled({ runId: 'r', taskId: 'a', attempt: 1 });
    expect(d.budget()).toBe(1);
    expect(room).toBeGreaterThanOrEqual(1);
  });

  it('ignores an attempt queued twice', async () => {
    const d = new Dispatcher({ maxBacklog: 10 });
    d.enqueue(item('a'));
    d.enqueue(item('a'));
    expect(d.backlog).toBe(1);
  });

  it('re-dispatches the attempts of a worker that leaves before claiming them', async () => {
    const d = new Dispatcher({ maxBacklog: 10, stealing: false });
    await d.join({ id: 'w1', capacity: 2, labels: [] });
    d.enqueue(item('a'));
    d.enqueue(item('b'));
    expect(ids(await d.poll('w1', 1, now))).toEqual(['a']);
    d.settled({ runId: 'r', taskId: 'x', attempt: 1 });
    await d.join({ id: 'w2', capacity: 2, labels: [] });
    await d.leave('w1');
    expect(ids(await d.poll('w2', 5, now)).sort()).toEqual(['a', 'b']);
  });

  it('re-dispatches an attempt not claimed within the claim timeout', async () => {
    let clock = 0;
    const d = new Dispatcher({ maxBacklog: 10, claimTimeoutMs: 100, now: () => clock });
    await d.join({ id: 'w', capacity: 1, labels: [] });
    d.enqueue(item('a'));
    expect(ids(await d.poll('w', 1, now))).toEqual(['a']);
    clock = 50;
    expect(ids(await d.poll('w', 1, now))).toEqual([]);
    clock = 101;
    expect(ids(await d.poll('w', 1, now))).toEqual(['a']);
    d.settled({ runId: 'r', taskId: 'a', attempt: 1 });
    clock = 1000;
    expect(ids(await d.poll('w', 1, now))).toEqual([]);
  });

  it('wakes a long-polling worker when work arrives, and delivers cancellations', async () => {
    const d = new Dispatcher({ maxBacklog: 10 });
    await d.join({ id: 'w', capacity: 1, labels: [] });
    const started = Date.now();
    const pending = d.poll('w', 1, { waitMs: 5000 });
    setTimeout(() => d.enqueue(item('a')), 20);
    expect(ids(await pending)).toEqual(['a']);
    expect(Date.now() - started).toBeLessThan(2000);
    const waiting = d.poll('w', 0, { waitMs: 5000 });
    setTimeout(() => d.cancel('w', { runId: 'r', taskId: 'a', attempt: 1 }), 20);
    expect((await waiting).cancel).toEqual([{ runId: 'r', taskId: 'a', attempt: 1 }]);
  });

  it('wakes the newer of two overlapping polls of one worker when the older one ends', async () => {
    // A network client gives up on a poll and polls again before the server has seen it go.
    const d = new Dispatcher({ maxBacklog: 10 });
    await d.join({ id: 'w', capacity: 1, labels: [] });
    const older = new AbortController();
    const first = d.poll('w', 1, { waitMs: 60_000, signal: older.signal });
    const second = d.poll('w', 1, { waitMs: 60_000 });
    older.abort();
    expect(ids(await first)).toEqual([]);
    d.enqueue(item('a'));
    // Without the fix the older poll's end cleared the newer one's wake-up: it slept its minute.
    const woken = await Promise.race([
      second,
      new Promise<'asleep'>((r) => setTimeout(() => r('asleep'), 5000)),
    ]);
    expect(woken === 'asleep' ? 'asleep' : ids(woken)).toEqual(['a']);
  });
});
