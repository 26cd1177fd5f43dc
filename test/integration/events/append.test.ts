/**
 * Postgres-specific append behaviour beyond the contract: event ids are unique store-wide, the
 * global order is (transaction id, sequence), appends can join a caller's transaction, and the
 * store's pool ownership.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../../src/errors.js';
import { appendToStream, MAX_APPEND_BATCH, PostgresEventStore } from '../../../src/events/postgres/index.js';
import { postgresRaceHelper } from '../../contract/postgres-race.js';
import { ids, newEvent, numberedEvents, readAllUntil, uniqueName } from '../../contract/support.js';
import { createTestDatabase } from '../../support/database.js';

const database = await createTestDatabase();
const store = new PostgresEventStore({ pool: database.pool });
afterAll(() => store.close());

async function conflictCode(attempt: Promise<unknown>): Promise<string | undefined> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConflictError);
  return (error as ConflictError).code;
}

describe('event ids', () => {
  it('refuses an id that already belongs to another stream', async () => {
    const event = newEvent();
    await store.append(uniqueName('first'), [event]);
    const second = uniqueName('second');
    expect(await conflictCode(store.append(second, [newEvent(), event]))).toBe('duplicate_event_id');
    expect(await store.readStream(second)).toEqual([]);
  });

  it('refuses the same id appended to two streams at once: one wins, one gets a ConflictError', async () => {
    for (let round = 0; round < 5; round++) {
      const event = newEvent();
      const [a, b] = [uniqueName('x'), uniqueName('y')];
      const outcomes = await Promise.allSettled([store.append(a, [event]), store.append(b, [event])]);
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(1);
      const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect((lost.reason as ConflictError).code).toBe('duplicate_event_id');
      expect((await store.readStream(a)).length + (await store.readStream(b)).length).toBe(1);
    }
  });

  it('refuses a batch that only partly repeats an earlier one', async () => {
    const stream = uniqueName('partial');
    const batch = numberedEvents(3);
    await store.append(stream, batch);
    expect(await conflictCode(store.append(stream, [batch[0]!, newEvent()]))).toBe('idempotency_mismatch');
    expect(await conflictCode(store.append(stream, [batch[1]!, batch[0]!]))).toBe('idempotency_mismatch');
    expect((await store.readStream(stream)).length).toBe(3);
  });

  it('matches ids case-insensitively and requires UUIDs', async () => {
    const stream = uniqueName('case');
    const event = newEvent('E', 1, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11');
    const first = await store.append(stream, [event]);
    expect(await store.append(stream, [{ ...event, id: event.id!.toLowerCase() }])).toEqual(first);
    expect((await store.readStream(stream))[0]!.id).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    await expect(store.append(stream, [newEvent('E', 1, 'not-a-uuid')])).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it(`caps a batch at ${MAX_APPEND_BATCH} events`, async () => {
    const stream = uniqueName('cap');
    await expect(store.append(stream, numberedEvents(MAX_APPEND_BATCH + 1))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect((await store.append(stream, numberedEvents(MAX_APPEND_BATCH))).nextExpectedRevision).toBe(
      MAX_APPEND_BATCH - 1,
    );
  });
});

describe('the global order is (transaction id, sequence)', () => {
  it('puts the older transaction first even when it wrote later and committed later', async () => {
    const race = postgresRaceHelper(database.pool);
    const ns = uniqueName('order');
    const older = await race.begin();
    const younger = await race.begin();
    const [o, y] = [newEvent('Older'), newEvent('Younger')];
    await younger.append(`${ns}-y`, [y]); // lower sequence number
    await older.append(`${ns}-o`, [o]);
    await younger.commit();
    // The younger one committed, but an older transaction is open: $all shows nothing yet.
    expect(await store.readAll({ streamPrefixes: [ns] })).toEqual([]);
    await older.commit();
    expect(ids(await readAllUntil(store, { streamPrefixes: [ns] }, 2))).toEqual([o.id, y.id]);
  });
});

describe('appendToStream in a caller transaction', () => {
  it('commits with the transaction and leaves nothing on rollback', async () => {
    const client = await database.pool.connect();
    try {
      const [kept, dropped] = [uniqueName('kept'), uniqueName('dropped')];
      await client.query('BEGIN');
      await appendToStream(client, kept, [newEvent()], 'no_stream', { retryOnDuplicate: false });
      await client.query('COMMIT');
      await client.query('BEGIN');
      await appendToStream(client, dropped, [newEvent()], 'no_stream', { retryOnDuplicate: false });
      await client.query('ROLLBACK');
      expect((await store.readStream(kept)).length).toBe(1);
      expect(await store.readStream(dropped)).toEqual([]);
      // The rolled-back revision claim left no stream row behind either.
      expect((await store.append(dropped, [newEvent()], 'no_stream')).nextExpectedRevision).toBe(0);
    } finally {
      client.release();
    }
  });
});

describe('pool ownership', () => {
  it('leaves a pool it was given open, and ends a pool it made', async () => {
    const borrowed = new PostgresEventStore({ pool: database.pool });
    await borrowed.append(uniqueName('b'), [newEvent()]);
    await borrowed.close();
    expect((await database.pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await expect(borrowed.append(uniqueName('b'), [newEvent()])).rejects.toThrow('closed');

    const owning = new PostgresEventStore({ connectionString: database.url });
    await owning.append(uniqueName('o'), [newEvent()]);
    await owning.close();
    expect(owning.connectionPool.ended).toBe(true);
  });
});
