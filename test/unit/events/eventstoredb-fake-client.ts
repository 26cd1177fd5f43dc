/**
 * An in-memory imitation of the parts of @eventstore/db-client's `EventStoreDBClient` the adapter
 * calls, for testing the adapter's own logic without a server. It is NOT EventStoreDB: it models
 * the server behaviour the adapter relies on, as read in the client's code and the server's
 * (IndexWriter.CheckCommit), and no more:
 * - expected revisions and idempotency: a repeated batch under `no_stream`/a revision is matched
 *   against the stream; under `any`/`stream_exists` against a cache of ids (here: all of them);
 *   a partly repeated batch is a WrongExpectedVersion; an empty batch is not answered
 *   idempotently;
 * - the client's errors (WrongExpectedVersionError, StreamNotFoundError thrown while iterating);
 * - $all positions: a batch shares one commit position and each event has its own prepare
 *   position, and the append result reports (commit, commit) — not the last event's position;
 * - readAll includes the event at its start position; subscribeToAll starts after it;
 * - system events (`$stats-…` streams, `$metadata` types) interleaved with the adapter's;
 * - subscriptions as object-mode Readables that stop reading when their buffer is full.
 * `dropSubscriptions()` fails every live subscription with UnavailableError, as a server restart.
 */
import { Readable } from 'node:stream';
import {
  ANY,
  type AppendExpectedRevision,
  type AppendResult,
  BACKWARDS,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { EsdbClient } from '../../../src/events/eventstoredb/index.js';

interface Stored {
  readonly streamId: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
  readonly isJson: true;
  readonly created: Date;
  readonly position: Position;
}

interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: unknown;
}

const RECORD_SIZE = 100n;

export class FakeEsdbClient {
  /** Every event in $all order. */
  readonly log: Stored[] = [];
  private readonly streams = new Map<string, Stored[]>();
  private readonly ids = new Map<string, { streamId: string; revision: bigint }>();
  private readonly live = new Set<LiveSubscription>();
  private nextLogPosition = 0n;
  /** Calls made, by method, for assertions on what the adapter asked. */
  readonly calls: { method: string; args: unknown[] }[] = [];

  constructor() {
    this.system('$stats-127.0.0.1:2113', '$statsCollected');
  }

  /** Writes a system event, as the server does on its own from time to time. */
  system(streamId: string, type: string): void {
    this.write(streamId, [{ id: crypto.randomUUID(), type, data: {} }]);
  }

  /** Fails every live subscription as a server restart would. */
  dropSubscriptions(): void {
    for (const subscription of [...this.live]) subscription.fail(new UnavailableError(undefined, 'dropped'));
  }

  get liveSubscriptions(): number {
    return this.live.size;
  }

  asClient(): EsdbClient {
    return this as unknown as EsdbClient;
  }

  async appendToStream(
    streamName: string,
    event: ProposedEvent | ProposedEvent[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.calls.push({ method: 'appendToStream', args: [streamName, event, options] });
    await io();
    const events = Array.isArray(event) ? event : [event];
    const expected = options.expectedRevision ?? ANY;
    const stream = this.streams.get(streamName) ?? [];
    const current = BigInt(stream.length) - 1n;
    const conflict = () =>
      new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current < 0n ? 'no_stream' : current,
      });
    if (expected === STREAM_EXISTS && current < 0n) throw conflict();
    if (expected === ANY || expected === STREAM_EXISTS) {
      const found = events.map((e) => this.ids.get(e.id));
      if (found.length > 0 && found[0]?.streamId === streamName) {
        if (found.some((f) => f?.streamId !== streamName)) throw conflict();
        return this.answered(streamName, found.at(-1)!.revision);
      }
      return this.write(streamName, events);
    }
    const expectedNumber = expected === 'no_stream' ? -1n : expected;
    if (expectedNumber < current) {
      if (events.length === 0) throw conflict();
      const matches = events.map((e, i) => stream[Number(expectedNumber) + 1 + i]?.id === e.id);
      if (!matches.every(Boolean)) throw conflict();
      return this.answered(streamName, expectedNumber + BigInt(events.length));
    }
    if (expectedNumber > current) throw conflict();
    return this.write(streamName, events);
  }

  readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; direction?: string; maxCount?: number | bigint } = {},
  ): AsyncIterable<{ event: Stored }> {
    this.calls.push({ method: 'readStream', args: [streamName, options] });
    const stream = this.streams.get(streamName);
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    return (async function* () {
      await io();
      if (!stream) throw new StreamNotFoundError(undefined, streamName);
      const from = options.fromRevision ?? (options.direction === BACKWARDS ? 'end' : 'start');
      let selected: Stored[];
      if (options.direction === BACKWARDS) {
        const top = from === 'end' ? stream.length - 1 : from === 'start' ? 0 : Number(from);
        selected = stream.slice(0, top + 1).reverse();
      } else {
        selected = stream.slice(from === 'start' ? 0 : from === 'end' ? stream.length : Number(from));
      }
      for (const event of selected.slice(0, maxCount)) yield { event: copy(event) };
    })();
  }

  readAll(
    options: { fromPosition?: ReadPosition; direction?: string; maxCount?: number | bigint } = {},
  ): AsyncIterable<{ event: Stored }> {
    this.calls.push({ method: 'readAll', args: [options] });
    const log = this.log;
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    return (async function* () {
      await io();
      const from = options.fromPosition ?? (options.direction === BACKWARDS ? 'end' : 'start');
      let selected: Stored[];
      if (options.direction === BACKWARDS) {
        selected = (
          from === 'end' ? [...log] : log.filter((e) => compare(e.position, from as Position) <= 0)
        ).reverse();
      } else {
        selected =
          from === 'start' ? log : log.filter((e) => from !== 'end' && compare(e.position, from) >= 0);
      }
      for (const event of selected.slice(0, maxCount)) yield { event: copy(event) };
    })();
  }

  subscribeToAll(
    options: { fromPosition?: ReadPosition; filter?: Filter } = {},
    readableOptions: { highWaterMark?: number } = {},
  ): Readable & { unsubscribe(): Promise<void> } {
    this.calls.push({ method: 'subscribeToAll', args: [options, readableOptions] });
    const subscription = new LiveSubscription(this, options, readableOptions.highWaterMark ?? 16);
    this.live.add(subscription);
    subscription.once('close', () => this.live.delete(subscription));
    return subscription;
  }

  async dispose(): Promise<void> {
    for (const subscription of [...this.live]) subscription.destroy();
  }

  private answered(streamName: string, lastRevision: bigint): AppendResult {
    const last = this.streams.get(streamName)![Number(lastRevision)]!;
    return { success: true, nextExpectedRevision: lastRevision, position: last.position };
  }

  private write(streamId: string, events: readonly ProposedEvent[]): AppendResult {
    const stream = this.streams.get(streamId) ?? [];
    if (events.length > 0) this.streams.set(streamId, stream);
    const commit = this.nextLogPosition;
    for (const event of events) {
      const revision = BigInt(stream.length);
      const stored: Stored = {
        streamId,
        id: event.id,
        revision,
        type: event.type,
        // What the client does: JSON.stringify on the way in, JSON.parse on the way out.
        data: JSON.parse(JSON.stringify(event.data)),
        metadata: event.metadata === undefined ? undefined : JSON.parse(JSON.stringify(event.metadata)),
        isJson: true,
        created: new Date(),
        position: { commit, prepare: this.nextLogPosition },
      };
      this.nextLogPosition += RECORD_SIZE;
      stream.push(stored);
      this.log.push(stored);
      this.ids.set(event.id, { streamId, revision });
    }
    for (const subscription of this.live) subscription.wake();
    return {
      success: true,
      nextExpectedRevision: BigInt(stream.length) - 1n,
      position: { commit, prepare: commit },
    };
  }
}

/** A subscription: everything after its start that passes its filter, then live. */
class LiveSubscription extends Readable {
  private cursor: number;
  private wanting = false;

  constructor(
    private readonly client: FakeEsdbClient,
    private readonly options: { fromPosition?: ReadPosition; filter?: Filter },
    highWaterMark: number,
  ) {
    super({ objectMode: true, highWaterMark });
    const from = options.fromPosition ?? 'start';
    this.cursor =
      from === 'start'
        ? 0
        : from === 'end'
          ? client.log.length
          : client.log.filter((e) => compare(e.position, from) <= 0).length;
  }

  async unsubscribe(): Promise<void> {
    this.push(null);
  }

  fail(error: Error): void {
    this.destroy(error);
  }

  wake(): void {
    if (this.wanting) this.pump();
  }

  override _read(): void {
    this.wanting = true;
    this.pump();
  }

  private pump(): void {
    const log = this.client.log;
    while (this.wanting && this.cursor < log.length) {
      const event = log[this.cursor++]!;
      if (!passes(event, this.options.filter)) continue;
      this.wanting = this.push({ event: copy(event), commitPosition: event.position.commit });
    }
  }
}

/** A turn of the event loop, as a network round trip would take: timers still get to run. */
function io(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function passes(event: Stored, filter: Filter | undefined): boolean {
  if (!filter) return true;
  const subject = filter.filterOn === 'streamName' ? event.streamId : event.type;
  if ('prefixes' in filter) return filter.prefixes.some((p) => subject.startsWith(p));
  return new RegExp(filter.regex).test(subject);
}

function compare(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare < b.prepare ? -1 : a.prepare > b.prepare ? 1 : 0;
}

function copy(event: Stored): Stored {
  return { ...event, data: structuredClone(event.data), metadata: structuredClone(event.metadata) };
}
