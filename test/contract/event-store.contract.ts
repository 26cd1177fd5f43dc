/**
 * The EventStore contract: what every adapter (Postgres now, EventStoreDB later) must do. An
 * adapter's test file calls `describeEventStoreContract` with a factory that makes a fresh store
 * for each test, plus the optional capabilities it can offer for tests that must reach below
 * the port (scripted races, connection counts, killing connections) and the guarantees it
 * documents as weaker (`knownLimitations`). A test that needs a capability the adapter lacks, or
 * checks a guarantee it disclaims, is reported as skipped, with the reason — never silently passed.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ExpectedRevision,
  NewEvent,
} from '../../src/events/types.js';
import { appendContract } from './contract-appends.js';
import { fenceContract } from './contract-fences.js';
import { raceContract } from './contract-races.js';
import { readContract } from './contract-reads.js';
import { subscriptionContract } from './contract-subscriptions.js';

/** A write transaction held open by hand, to make commit order differ from write order. */
export interface OpenTransaction {
  append(
    stream: string,
    events: readonly NewEvent[],
    expected?: ExpectedRevision,
    options?: AppendOptions,
  ): Promise<AppendResult>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface RaceHelper {
  /**
   * Opens a write transaction that takes its place in the store's ordering now (Postgres: it is
   * given its transaction id at once), so tests can script which of two transactions is
   * "older", which writes first and which commits first.
   */
  begin(): Promise<OpenTransaction>;
}

export interface ContractHarness {
  readonly store: EventStore;
  /** Scripted races across two connections. */
  readonly race?: RaceHelper;
  /** How many server connections the store holds right now (pool and subscriptions). */
  readonly connectionCount?: () => Promise<number>;
  /** Kills the server side of every live subscription's notification connection; returns how many. */
  readonly killSubscriptionConnections?: () => Promise<number>;
  /**
   * Guarantees of the port this adapter documents as weaker, each with its reason. The tests
   * that check them are reported as skipped with that reason; the rest of the contract still runs.
   */
  readonly knownLimitations?: KnownLimitations;
  /** Runs after `store.close()`. */
  readonly cleanup?: () => Promise<void>;
}

export interface KnownLimitations {
  /**
   * A fenced append that is in flight while `nextTerm` runs may still commit after `nextTerm`
   * returned (the fence is checked, then the append made: no atomic check-and-append).
   */
  readonly fencedAppendRace?: string;
}

export type MakeStore = () => Promise<ContractHarness>;

/** Gives each test its harness; `current()` is valid inside a test. */
export interface HarnessAccess {
  current(): ContractHarness;
}

/** Registers the whole contract for one adapter. */
export function describeEventStoreContract(name: string, makeStore: MakeStore): void {
  describe(`EventStore contract: ${name}`, () => {
    let harness: ContractHarness | undefined;
    beforeEach(async () => {
      harness = await makeStore();
    });
    afterEach(async () => {
      const done = harness;
      harness = undefined;
      await done?.store.close();
      await done?.cleanup?.();
    });
    const access: HarnessAccess = {
      current() {
        if (!harness) throw new Error('the harness exists only inside a test');
        return harness;
      },
    };
    appendContract(access);
    readContract(access);
    subscriptionContract(access);
    raceContract(access);
    fenceContract(access);
  });
}
