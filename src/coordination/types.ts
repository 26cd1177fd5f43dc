/**
 * The coordination port: leader election, the worker registry, locks that wait, and watches. Two
 * adapters: in-process (`dagrun run`, `dagrun standalone`: one process, nothing to coordinate
 * with) and etcd (distributed deployments). Never a home-made consensus.
 *
 * Coordination decides *who* acts; it does not fence. The scheduler's fencing term comes from the
 * event store (`EventStore.nextTerm`), which refuses the appends of a deposed leader.
 */
import type { Observable } from 'rxjs';

/** What a leader proclaims: where workers reach it, and the term it decides under. */
export interface LeaderValue {
  /** The leader's dispatch URL, e.g. `http://10.0.0.5:7401`. */
  readonly address?: string | undefined;
  /** The fencing term (from `EventStore.nextTerm`). */
  readonly term?: number | undefined;
  readonly [key: string]: unknown;
}

export interface LeaderInfo {
  /** The candidate id the leader campaigned with. */
  readonly id: string;
  readonly value: LeaderValue;
}

export interface Leadership {
  readonly candidateId: string;
  /**
   * Resolves once leadership is lost: resigned, the lease revoked or expired, or not confirmed
   * alive within its TTL (a process paused past its TTL, or cut off from etcd). Once it has
   * resolved, the holder must stop acting as the leader.
   */
  readonly lost: Promise<void>;
  /** Replaces the value observers see (e.g. with the term, once taken). */
  proclaim(value: LeaderValue): Promise<void>;
  /** Gives leadership up at once, so another candidate can take over without waiting for a TTL. */
  resign(): Promise<void>;
}

export interface CampaignOptions {
  /** The value proclaimed on election. */
  readonly value?: LeaderValue;
  readonly signal?: AbortSignal;
}

/** One live worker, as it registered itself. */
export interface WorkerRecord {
  readonly id: string;
  /** Slots: how many attempts it runs at once. */
  readonly capacity: number;
  readonly labels: readonly string[];
  /** The dagrun version it runs. */
  readonly version: string;
  readonly host?: string | undefined;
  readonly pid?: number | undefined;
}

export interface Registration {
  /** Resolves when the registration's lease is lost (expired, revoked, or not confirmed in time). */
  readonly lost: Promise<void>;
  /** Removes the record and revokes its lease. */
  revoke(): Promise<void>;
}

export type RegistryChange =
  | { readonly type: 'put'; readonly worker: WorkerRecord }
  | { readonly type: 'delete'; readonly workerId: string };

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** The key relative to the adapter's prefix. */
  readonly key: string;
  /** The value, for puts. */
  readonly value?: string | undefined;
}

export interface Lock {
  /** Resolves if the lock's lease is lost while held. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Longest wait for the lock; then `lock` throws LockTimeoutError. */
  readonly waitMs: number;
  readonly signal?: AbortSignal;
}

export interface Coordination {
  /** Waits until this candidate leads `election`. */
  campaign(election: string, candidateId: string, options?: CampaignOptions): Promise<Leadership>;
  /** The current leader of `election` (undefined: none) at subscription, then every change. */
  observeLeader(election: string): Observable<LeaderInfo | undefined>;
  /** Registers a worker under a lease kept alive until `revoke` or the process dies. */
  register(worker: WorkerRecord): Promise<Registration>;
  /** The workers registered now. */
  workers(): Promise<WorkerRecord[]>;
  /** Every registered worker as a put at subscription, then each change. */
  watchWorkers(): Observable<RegistryChange>;
  /** Takes the named lock, waiting up to `waitMs`. */
  lock(name: string, options: LockOptions): Promise<Lock>;
  /** Changes under `prefix` (relative to the adapter's prefix) from now on. */
  watch(prefix: string): Observable<WatchEvent>;
  /** Resolves when the backend answers; for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The election the schedulers campaign in. */
export const SCHEDULER_ELECTION = 'scheduler';
