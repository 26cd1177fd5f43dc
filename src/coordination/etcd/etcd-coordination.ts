/**
 * The etcd adapter of the coordination port, for distributed deployments (etcd3 client).
 *
 * Keys, under `prefix` (default `/dagrun/`):
 * - `election/<name>/<lease>`: candidates of an election, oldest first; the value is the JSON of
 *   `LeaderInfo` (candidate id and proclaimed value). Layout of etcd's Go client and etcd3.
 * - `workers/<id>`: one live worker, the JSON of its `WorkerRecord`, under the worker's lease.
 * - `locks/<name>/<lease>`: holders of a lock and the waiters in line behind them.
 *
 * Every lease is a `KeptLease`: its `lost` resolves when etcd says the lease is gone, and also
 * when this process has had no confirmation within the TTL by its own monotonic clock (paused,
 * or cut off from etcd) — see kept-lease.ts. `Leadership.lost`, `Registration.lost` and
 * `Lock.lost` are that promise; a leader's or holder's key deleted by anyone ends it too.
 *
 * Elections and locks are the Go client's fair queue on create revision (queue.ts), with our own
 * leases rather than etcd3's `Campaign`/`Lock`: etcd3 keeps those leases alive privately and
 * cannot tell a paused process that it lost; its `lock()` also does not wait.
 */
import { hostname } from 'node:os';
import { Etcd3, type IResponseHeader, type Namespace } from 'etcd3';
import { Observable } from 'rxjs';
import { LockTimeoutError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type {
  CampaignOptions,
  Coordination,
  LeaderInfo,
  Leadership,
  LeaderValue,
  Lock,
  LockOptions,
  Registration,
  RegistryChange,
  WatchEvent,
  WorkerRecord,
} from '../types.js';
import { encodeLeader, followLeader, followPrefix, followWorkers } from './followers.js';
import { KeptLease, LeaseEndedError } from './kept-lease.js';
import { OwnWrites } from './own-writes.js';
import { enqueue, type QueueEntry, QueueKeyGoneError, waitForTurn } from './queue.js';
import { abortable, anySignal, backoff, pause, timeoutSignal } from './signals.js';
import { nextRevision, Watches } from './watching.js';

export interface EtcdCoordinationOptions {
  readonly endpoints: readonly string[];
  /** Key prefix of everything this adapter stores; default `/dagrun/`. A `/` is added if missing. */
  readonly prefix?: string;
  /** TTL of every lease (leadership, registration, lock); etcd raises 1 s to 2 s. */
  readonly leaseTtlSeconds: number;
  readonly log?: Logger;
  /**
   * Deadline of each single request to etcd; default 3 s. etcd3 retries a request that timed out
   * (3 attempts), so an etcd that stopped answering fails a call after up to three times this.
   * Streams (watches) have none.
   */
  readonly requestTimeoutMs?: number;
}

const ELECTIONS = 'election/';
const WORKERS = 'workers/';
const LOCKS = 'locks/';
const PING_TIMEOUT_MS = 1_000;
/** A key read only for the revision (and liveness) etcd answers with. */
const REVISION_PROBE = 'ping';
const CLOSE_SETTLE_MS = 2_000;

/** A contender that reached the head of its line. */
interface Head {
  readonly lease: KeptLease;
  readonly entry: QueueEntry;
  readonly seen: IResponseHeader;
}

export class EtcdCoordination implements Coordination {
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly watches: Watches;
  private readonly ownWrites = new OwnWrites();
  private readonly ttlSeconds: number;
  private readonly log: Logger | undefined;
  /** Leases held now: revoked on close. */
  private readonly leases = new Set<KeptLease>();
  /** Live subscriptions: completed on close. */
  private readonly subscriptions = new Set<() => void>();
  private readonly closing = new AbortController();

  constructor(options: EtcdCoordinationOptions) {
    if (!Number.isInteger(options.leaseTtlSeconds) || options.leaseTtlSeconds < 1) {
      throw new RangeError(
        `leaseTtlSeconds must be a whole number of seconds ≥ 1, got ${options.leaseTtlSeconds}`,
      );
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? 3_000;
    const prefix = options.prefix ?? '/dagrun/';
    this.ttlSeconds = options.leaseTtlSeconds;
    this.log = options.log;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      // Without a deadline a request to an etcd that stopped answering waits forever.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs }),
    });
    this.ns = this.client.namespace(prefix.endsWith('/') ? prefix : `${prefix}/`);
    this.watches = new Watches(this.ns);
  }

  async campaign(election: string, candidateId: string, options: CampaignOptions = {}): Promise<Leadership> {
    const value = options.value ?? {};
    const stop = anySignal([options.signal, this.closing.signal]);
    const head = await this.contend(
      `${ELECTIONS}${election}/`,
      encodeLeader(candidateId, value),
      `election ${election} (${candidateId})`,
      stop.signal,
    ).finally(stop.dispose);
    const { lease, entry } = head;
    this.watchOwnKey(head, 'leader');
    return {
      candidateId,
      lost: lease.lost,
      // Like the in-process adapter, a no-op once leadership is lost: `lost` is how that is told.
      proclaim: async (next: LeaderValue) => {
        if (lease.end !== undefined) return;
        const txn = await this.ns
          .if(entry.key, 'Create', '==', entry.createRevision)
          .then(this.ns.put(entry.key).value(encodeLeader(candidateId, next)).lease(lease.id))
          .commit();
        this.ownWrites.wrote(txn.header);
        if (!txn.succeeded) lease.abandon('the leader key is gone');
      },
      resign: () => lease.revoke(),
    };
  }

  observeLeader(election: string): Observable<LeaderInfo | undefined> {
    return this.observable<LeaderInfo | undefined>((emit, signal) =>
      followLeader(this.watches, `${ELECTIONS}${election}/`, emit, signal, this.log),
    );
  }

  async register(worker: WorkerRecord): Promise<Registration> {
    this.closing.signal.throwIfAborted();
    const lease = await this.grant(`registration ${worker.id}`);
    try {
      const put = await this.ns
        .put(WORKERS + worker.id)
        .value(JSON.stringify(worker))
        .lease(lease.id)
        .exec();
      this.ownWrites.wrote(put.header);
    } catch (error) {
      await lease.revoke().catch(() => undefined);
      throw error;
    }
    return { lost: lease.lost, revoke: () => lease.revoke() };
  }

  async workers(): Promise<WorkerRecord[]> {
    const values = await this.ns.getAll().prefix(WORKERS).strings();
    return Object.values(values).map((value) => JSON.parse(value) as WorkerRecord);
  }

  watchWorkers(): Observable<RegistryChange> {
    return this.observable<RegistryChange>((emit, signal) =>
      followWorkers(this.watches, WORKERS, emit, signal, this.log),
    );
  }

  /** `waitMs` bounds the whole call, round trips to etcd included. */
  async lock(name: string, options: LockOptions): Promise<Lock> {
    const timeout = timeoutSignal(options.waitMs, () => new LockTimeoutError(name, options.waitMs));
    const stop = anySignal([timeout.signal, options.signal, this.closing.signal]);
    try {
      const head = await this.contend(
        `${LOCKS}${name}/`,
        JSON.stringify({ host: hostname(), pid: process.pid }),
        `lock ${name}`,
        stop.signal,
      );
      this.watchOwnKey(head, 'lock');
      return { lost: head.lease.lost, release: () => head.lease.revoke() };
    } finally {
      timeout.dispose();
      stop.dispose();
    }
  }

  /**
   * Changes under `prefix` after the subscription: those after the revision etcd reports when the
   * watch starts, and also every write of this adapter made since `subscribe` (a write may land
   * before that read returns; it is not missed).
   */
  watch(prefix: string): Observable<WatchEvent> {
    return this.observable<WatchEvent>(async (emit, signal) => {
      const mark = this.ownWrites.mark();
      try {
        const head = await this.ns.get(REVISION_PROBE).exec();
        const from = mark.startOf(nextRevision(head.header));
        mark.release();
        await followPrefix(this.watches, prefix, from, emit, signal);
      } finally {
        mark.release();
      }
    });
  }

  async ping(): Promise<void> {
    this.closing.signal.throwIfAborted();
    await this.ns
      .get(REVISION_PROBE)
      .options({ deadline: Date.now() + PING_TIMEOUT_MS })
      .exec();
  }

  /** Resigns, releases and revokes everything held, ends every subscription, closes the client. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new Error('etcd coordination is closed'));
    for (const complete of [...this.subscriptions]) complete();
    const revoked = await Promise.allSettled([...this.leases].map((lease) => lease.revoke()));
    for (const result of revoked) {
      if (result.status === 'rejected') {
        this.log?.warn('etcd lease revoke on close failed', { error: String(result.reason) });
      }
    }
    await this.watches.settle(CLOSE_SETTLE_MS);
    this.client.close();
  }

  /**
   * Gets in line under `directory` and waits for the head of it. A lost place (lease lost, key
   * gone, etcd unreachable) is retaken with a new lease, after a backoff, until `signal` aborts.
   */
  private async contend(
    directory: string,
    value: string,
    holder: string,
    signal: AbortSignal,
  ): Promise<Head> {
    for (let failures = 0; ; failures++) {
      signal.throwIfAborted();
      let lease: KeptLease | undefined;
      try {
        lease = await abortable(this.grant(holder), signal, (late) => late.revoke());
        const entry = await abortable(enqueue(this.ns, directory, lease, value, this.wrote), signal);
        const seen = await this.waitInLine(directory, entry, lease, signal);
        // Announce nothing on a lease that is not confirmed alive: it may be gone in etcd already.
        if (!lease.held) throw new LeaseEndedError(holder, lease.end ?? 'unconfirmed');
        return { lease, entry, seen };
      } catch (error) {
        // Detached: leaving the line must not delay the caller; a failed revoke expires anyway.
        lease?.revoke().catch(() => undefined);
        if (signal.aborted) throw signal.reason;
        this.log?.warn('etcd: lost the place in line; getting in line again', {
          holder,
          error: String(error),
        });
        await pause(backoff(failures), signal);
      }
    }
  }

  /** Waits for the head of the line, riding out etcd errors while the lease holds. */
  private async waitInLine(
    directory: string,
    entry: QueueEntry,
    lease: KeptLease,
    signal: AbortSignal,
  ): Promise<IResponseHeader> {
    const both = anySignal([signal, lease.signal]);
    try {
      for (let failures = 0; ; failures++) {
        try {
          return await waitForTurn(this.watches, directory, entry, both.signal);
        } catch (error) {
          if (both.signal.aborted) throw both.signal.reason;
          if (error instanceof QueueKeyGoneError) throw error;
          this.log?.debug('etcd: waiting in line failed; waiting again', {
            key: entry.key,
            error: String(error),
          });
          await pause(backoff(failures), both.signal);
        }
      }
    } finally {
      both.dispose();
    }
  }

  /** Ends the lease of a leader or lock holder whose key is deleted by anyone else. */
  private watchOwnKey({ lease, entry, seen }: Head, what: string): void {
    const stop = anySignal([lease.signal, this.closing.signal]);
    this.watches
      .until({ key: entry.key }, nextRevision(seen), stop.signal, (event) => event.type === 'Delete')
      .then(() => lease.abandon(`the ${what} key was deleted`))
      // Detached: on abort the lease has ended already; on a watch error the watchdog still holds.
      .catch((error: unknown) => {
        if (!stop.signal.aborted)
          this.log?.warn(`etcd: watch of the ${what} key failed`, { error: String(error) });
      })
      .finally(stop.dispose);
  }

  private async grant(holder: string): Promise<KeptLease> {
    const lease = await KeptLease.grant({
      client: this.ns,
      ttlSeconds: this.ttlSeconds,
      holder,
      log: this.log,
      onWrite: this.wrote,
    });
    this.leases.add(lease);
    // Detached: only forgets the lease once it has ended.
    lease.lost.then(() => this.leases.delete(lease)).catch(() => undefined);
    if (this.closing.signal.aborted) {
      await lease.revoke();
      this.closing.signal.throwIfAborted();
    }
    return lease;
  }

  private readonly wrote = (header: IResponseHeader): void => this.ownWrites.wrote(header);

  /** An observable over a follow loop; unsubscribing (or closing the adapter) aborts the loop. */
  private observable<T>(
    run: (emit: (value: T) => void, signal: AbortSignal) => Promise<void>,
  ): Observable<T> {
    return new Observable<T>((subscriber) => {
      if (this.closing.signal.aborted) {
        subscriber.complete();
        return;
      }
      const controller = new AbortController();
      const complete = () => subscriber.complete();
      this.subscriptions.add(complete);
      // Detached: the loop lives as long as the subscription, which ends it through the abort.
      run((value) => subscriber.next(value), controller.signal).then(
        () => subscriber.complete(),
        (error: unknown) => {
          if (!controller.signal.aborted) subscriber.error(error);
        },
      );
      return () => {
        this.subscriptions.delete(complete);
        controller.abort();
      };
    });
  }
}
