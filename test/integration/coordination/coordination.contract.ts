/**
 * One contract for every Coordination adapter: what the scheduler and the workers rely on, run
 * against the in-process adapter and against real etcd. Each test gets a fresh adapter (for etcd:
 * a prefix of its own) and closes it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  Coordination,
  Leadership,
  RegistryChange,
  WatchEvent,
} from '../../../src/coordination/types.js';
import { LockTimeoutError } from '../../../src/errors.js';
import { collect, eventually, sleep, track, within, workerRecord } from './support.js';

export type CoordinationFactory = () => Coordination | Promise<Coordination>;

/** Long enough for a wrong outcome (a second leader, a lock taken twice) to show up if it would. */
const GRACE_MS = 300;
const ELECTION = 'contract';

export function describeCoordinationContract(name: string, factory: CoordinationFactory): void {
  describe(`coordination contract: ${name}`, () => {
    let coordination: Coordination;

    beforeEach(async () => {
      coordination = await factory();
    });
    afterEach(async () => {
      await coordination.close();
    });

    describe('election', () => {
      it('has one leader at a time between two candidates', async () => {
        let leading = 0;
        let most = 0;
        const terms: string[] = [];
        const candidate = async (id: string) => {
          for (let round = 0; round < 3; round++) {
            const leadership = await coordination.campaign(ELECTION, id);
            leading++;
            most = Math.max(most, leading);
            terms.push(id);
            await sleep(30);
            // Stop acting first, then hand over.
            leading--;
            await leadership.resign();
          }
        };
        await within(Promise.all([candidate('a'), candidate('b')]), 30_000, 'both candidates');
        expect(most).toBe(1);
        expect(terms.filter((id) => id === 'a')).toHaveLength(3);
        expect(terms.filter((id) => id === 'b')).toHaveLength(3);
      });

      it('resign hands over to the waiting candidate', async () => {
        const a = await coordination.campaign(ELECTION, 'a');
        const b = track(coordination.campaign(ELECTION, 'b'));
        await sleep(GRACE_MS);
        expect(b.state).toBe('pending');

        const aLost = track(a.lost);
        await a.resign();
        await within(a.lost, 5_000, 'a.lost');
        expect(aLost.state).toBe('fulfilled');
        const leadership = await within(b.promise, 15_000, 'b elected');
        expect(leadership.candidateId).toBe('b');
        await leadership.resign();
      });

      it('observeLeader sees the leader, each proclaim and the resign', async () => {
        const leaders = collect(coordination.observeLeader(ELECTION));
        await eventually(() => expect(leaders.values).toEqual([undefined]));

        const a = await coordination.campaign(ELECTION, 'a', { value: { address: 'http://a:7401' } });
        await eventually(() => expect(leaders.values.at(-1)?.id).toBe('a'));
        await a.proclaim({ address: 'http://a:7401', term: 7 });
        await eventually(() => expect(leaders.values.at(-1)?.value.term).toBe(7));
        await a.resign();
        await eventually(() => expect(leaders.values.at(-1)).toBeUndefined());

        expect(leaders.values).toEqual([
          undefined,
          { id: 'a', value: { address: 'http://a:7401' } },
          { id: 'a', value: { address: 'http://a:7401', term: 7 } },
          undefined,
        ]);
        // A late subscriber gets the current state at once.
        const b = await coordination.campaign(ELECTION, 'b', { value: { term: 8 } });
        const late = collect(coordination.observeLeader(ELECTION));
        await eventually(() => expect(late.values).toEqual([{ id: 'b', value: { term: 8 } }]));
        await b.resign();
        leaders.subscription.unsubscribe();
        late.subscription.unsubscribe();
      });

      it('an abort signal cancels a waiting campaign', async () => {
        const a = await coordination.campaign(ELECTION, 'a');
        const controller = new AbortController();
        const b = track(coordination.campaign(ELECTION, 'b', { signal: controller.signal }));
        await sleep(GRACE_MS);
        expect(b.state).toBe('pending');

        const reason = new Error('stop campaigning');
        controller.abort(reason);
        await expect(within(b.promise, 10_000, 'aborted campaign')).rejects.toBe(reason);

        // b left the line: when a resigns, nobody leads, and a newcomer leads at once.
        const leaders = collect(coordination.observeLeader(ELECTION));
        await a.resign();
        await eventually(() => expect(leaders.values.at(-1)).toBeUndefined());
        await sleep(GRACE_MS);
        expect(leaders.values.at(-1)).toBeUndefined();
        const c = await within(coordination.campaign(ELECTION, 'c'), 10_000, 'c elected');
        expect(c.candidateId).toBe('c');
        await c.resign();
        leaders.subscription.unsubscribe();
      });

      it('a campaign whose signal is already aborted rejects, whether the election is free or held', async () => {
        const reason = new Error('aborted before');
        const signal = AbortSignal.abort(reason);
        await expect(within(coordination.campaign(ELECTION, 'x', { signal }), 5_000, 'free')).rejects.toBe(
          reason,
        );
        const a = await coordination.campaign(ELECTION, 'a');
        await expect(within(coordination.campaign(ELECTION, 'y', { signal }), 5_000, 'held')).rejects.toBe(
          reason,
        );
        await a.resign();
      });

      it('an aborted waiter does not hold up the candidates behind it', async () => {
        const a = await coordination.campaign(ELECTION, 'a');
        const controller = new AbortController();
        const b = track(coordination.campaign(ELECTION, 'b', { signal: controller.signal }));
        await sleep(GRACE_MS);
        const c = track(coordination.campaign(ELECTION, 'c'));
        await sleep(GRACE_MS);
        controller.abort(new Error('b gives up'));
        await eventually(() => expect(b.state).toBe('rejected'));

        await a.resign();
        const leadership = await within(c.promise, 15_000, 'c elected after a resigned');
        expect(leadership.candidateId).toBe('c');
        await leadership.resign();
      });

      it('elections of different names do not interfere', async () => {
        const one = await coordination.campaign('one', 'a');
        const two = await within(coordination.campaign('two', 'b'), 10_000, 'second election');
        await Promise.all([one.resign(), two.resign()]);
      });
    });

    describe('worker registry', () => {
      it('lists, watches (current workers first, then changes) and revokes', async () => {
        const w1 = workerRecord('w1', { host: 'host-1', pid: 11 });
        const w2 = workerRecord('w2', { labels: ['gpu'] });
        const r1 = await coordination.register(w1);

        const changes = collect(coordination.watchWorkers());
        await eventually(() => expect(changes.values).toEqual([{ type: 'put', worker: w1 }]));
        const r2 = await coordination.register(w2);
        await eventually(() => expect(changes.values).toHaveLength(2));
        const byId = (list: { id: string }[]) => [...list].sort((x, y) => x.id.localeCompare(y.id));
        expect(byId(await coordination.workers())).toEqual([w1, w2]);

        const r1Lost = track(r1.lost);
        await r1.revoke();
        await within(r1.lost, 5_000, 'r1.lost');
        expect(r1Lost.state).toBe('fulfilled');
        await eventually(() => expect(changes.values).toHaveLength(3));
        expect(changes.values).toEqual<RegistryChange[]>([
          { type: 'put', worker: w1 },
          { type: 'put', worker: w2 },
          { type: 'delete', workerId: 'w1' },
        ]);
        expect(await coordination.workers()).toEqual([w2]);

        await r2.revoke();
        expect(await coordination.workers()).toEqual([]);
        changes.subscription.unsubscribe();
      });
    });

    describe('locks', () => {
      it('are mutually exclusive', async () => {
        let inside = 0;
        let most = 0;
        let entries = 0;
        const contender = async () => {
          for (let round = 0; round < 2; round++) {
            const lock = await coordination.lock('exclusive', { waitMs: 20_000 });
            inside++;
            entries++;
            most = Math.max(most, inside);
            await sleep(20);
            inside--;
            await lock.release();
          }
        };
        await within(Promise.all([contender(), contender(), contender(), contender()]), 30_000, 'contenders');
        expect(most).toBe(1);
        expect(entries).toBe(8);
      });

      it('a waiting lock is acquired once the holder releases it', async () => {
        const held = await coordination.lock('handover', { waitMs: 1_000 });
        const waiting = track(coordination.lock('handover', { waitMs: 20_000 }));
        await sleep(GRACE_MS);
        expect(waiting.state).toBe('pending');
        await held.release();
        const lock = await within(waiting.promise, 15_000, 'waiting lock');
        await lock.release();
      });

      it('throws LockTimeoutError after waitMs, and the timed-out waiter leaves the line', async () => {
        const held = await coordination.lock('timeout', { waitMs: 1_000 });
        const error = await within(
          coordination.lock('timeout', { waitMs: 300 }).then(
            () => undefined,
            (e: unknown) => e,
          ),
          15_000,
          'timed-out lock',
        );
        expect(error).toBeInstanceOf(LockTimeoutError);
        expect(error).toMatchObject({ code: 'lock_timeout', lock: 'timeout', waitMs: 300 });
        await held.release();
        const next = await within(coordination.lock('timeout', { waitMs: 10_000 }), 12_000, 'next lock');
        await next.release();
      });

      it('an abort signal cancels a waiting lock', async () => {
        const held = await coordination.lock('abort', { waitMs: 1_000 });
        const controller = new AbortController();
        const waiting = track(coordination.lock('abort', { waitMs: 20_000, signal: controller.signal }));
        await sleep(GRACE_MS);
        expect(waiting.state).toBe('pending');
        const reason = new Error('stop waiting');
        controller.abort(reason);
        await expect(within(waiting.promise, 10_000, 'aborted lock')).rejects.toBe(reason);
        await held.release();
        const next = await within(coordination.lock('abort', { waitMs: 10_000 }), 12_000, 'next lock');
        await next.release();
      });

      it('a lock whose signal is already aborted rejects, whether the lock is free or held', async () => {
        const reason = new Error('aborted before');
        const signal = AbortSignal.abort(reason);
        const options = { waitMs: 5_000, signal };
        await expect(within(coordination.lock('pre', options), 8_000, 'free')).rejects.toBe(reason);
        const held = await coordination.lock('pre', { waitMs: 1_000 });
        await expect(within(coordination.lock('pre', options), 8_000, 'held')).rejects.toBe(reason);
        await held.release();
      });

      it('locks of different names are independent', async () => {
        const one = await coordination.lock('one', { waitMs: 1_000 });
        const two = await within(coordination.lock('two', { waitMs: 5_000 }), 10_000, 'second lock');
        await Promise.all([one.release(), two.release()]);
      });
    });

    describe('watch', () => {
      it('emits the puts and deletes under a prefix, keys relative to the adapter prefix', async () => {
        const events = collect(coordination.watch('workers/'));
        const elsewhere = collect(coordination.watch('elsewhere/'));
        const worker = workerRecord('watched');
        const registration = await coordination.register(worker);
        await eventually(() => expect(events.values).toHaveLength(1));
        await registration.revoke();
        await eventually(() => expect(events.values).toHaveLength(2));

        const [put, deleted] = events.values as [WatchEvent, WatchEvent];
        expect(put).toMatchObject({ type: 'put', key: 'workers/watched' });
        expect(JSON.parse(put.value ?? 'null')).toEqual(worker);
        expect(deleted).toMatchObject({ type: 'delete', key: 'workers/watched' });
        expect(elsewhere.values).toEqual([]);
        events.subscription.unsubscribe();
        elsewhere.subscription.unsubscribe();
      });
    });

    describe('ping and close', () => {
      it('pings while open and not after close; close ends the leadership it holds', async () => {
        await coordination.ping();
        const leadership: Leadership = await coordination.campaign(ELECTION, 'closing');
        await coordination.close();
        await within(leadership.lost, 5_000, 'leadership.lost on close');
        await expect(coordination.ping()).rejects.toThrow();
      });
    });
  });
}
