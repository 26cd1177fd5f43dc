/**
 * An etcd lease this process keeps alive, and whose loss it learns by itself.
 *
 * etcd3's own `Lease` keeps one keepalive stream open and only gives up after twice the TTL
 * without an answer, by the wall clock. That is too late for DESIGN invariant 3: a leader paused
 * (SIGSTOP, a long GC, a frozen VM) past its TTL has already been replaced when it wakes, and must
 * know it before it acts again. So this keeper sends its own keepalives, one short stream each,
 * and remembers when each was *sent*: an answer proves the lease alive until `sentAt + TTL` (etcd
 * restarts the TTL when it handles the request, which is after we sent it). A watchdog on the
 * monotonic clock (`performance.now()`) fires `lost` as soon as that moment passes unconfirmed —
 * whether etcd said the lease is gone, could not be reached, or the process was not running.
 *
 * After `lost`, nothing keeps the lease alive any more, and the lease is revoked on a best-effort
 * basis (detached), so that its keys go at once rather than at expiry.
 */
import { performance } from 'node:perf_hooks';
import type { ILeaseKeepAliveResponse, IResponseHeader, Namespace } from 'etcd3';
import { castGrpcError, EtcdLeaseInvalidError } from 'etcd3';
import type { Logger } from '../../observability/logger.js';

/** Why a lease stopped being held. */
export type LeaseEnd = 'revoked' | 'expired' | 'unconfirmed' | 'abandoned';

export interface KeptLeaseOptions {
  /** Any namespace of the client; lease calls are not prefixed. */
  readonly client: Namespace;
  readonly ttlSeconds: number;
  /** What holds the lease, for logs: `registration worker-1`, `election scheduler`. */
  readonly holder: string;
  readonly log?: Logger | undefined;
  /** Called with the header of each write this lease makes (its revoke). */
  readonly onWrite?: ((header: IResponseHeader) => void) | undefined;
}

type KeepAliveStream = Awaited<ReturnType<Namespace['leaseClient']['leaseKeepAlive']>>;

/** How long a best-effort revoke after a loss may take. */
const ABANDON_REVOKE_MS = 1_000;

export class KeptLease {
  /** The lease id, as etcd3 spells it (decimal). */
  readonly id: string;
  /** Resolves once the lease is no longer held, for whatever reason; see `end`. */
  readonly lost: Promise<void>;
  /** Aborts when `lost` resolves, for waits that must stop with the lease. */
  readonly signal: AbortSignal;
  private readonly ttlMs: number;
  /** performance.now() until which etcd has confirmed the lease alive. */
  private confirmedUntil: number;
  private ended: LeaseEnd | undefined;
  private readonly controller = new AbortController();
  private resolveLost!: () => void;
  private beat: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<KeepAliveStream>();

  /** Grants a lease and starts keeping it alive. */
  static async grant(options: KeptLeaseOptions): Promise<KeptLease> {
    const sentAt = performance.now();
    const granted = await options.client.leaseClient.leaseGrant({ TTL: options.ttlSeconds });
    if (granted.error) throw new Error(`etcd refused a lease for ${options.holder}: ${granted.error}`);
    // etcd may raise a short TTL (1 s becomes 2 s); the granted one is what etcd enforces.
    return new KeptLease(options, granted.ID, Number(granted.TTL) * 1000, sentAt);
  }

  private constructor(
    private readonly options: KeptLeaseOptions,
    id: string,
    ttlMs: number,
    grantSentAt: number,
  ) {
    this.id = id;
    this.ttlMs = ttlMs;
    this.confirmedUntil = grantSentAt + ttlMs;
    this.signal = this.controller.signal;
    this.lost = new Promise<void>((resolve) => {
      this.resolveLost = resolve;
    });
    // The same cadence as etcd's Go client: three keepalives per TTL.
    this.beat = setInterval(() => this.keepAlive(), Math.max(100, Math.floor(ttlMs / 3)));
    this.check();
  }

  /** The id in hex, as etcd's Go client names election and lock keys. */
  get hexId(): string {
    return BigInt(this.id).toString(16);
  }

  /** Why the lease ended; undefined while it is held. */
  get end(): LeaseEnd | undefined {
    return this.ended;
  }

  /** True while the lease is held and confirmed alive by the local monotonic clock. */
  get held(): boolean {
    return this.ended === undefined && performance.now() < this.confirmedUntil;
  }

  /** Stops keeping the lease and revokes it, which deletes its keys. Idempotent. */
  async revoke(): Promise<void> {
    const first = this.ended === undefined;
    this.finish('revoked');
    if (!first) return;
    await this.revokeInEtcd();
  }

  /**
   * Gives the lease up because what it held is gone (e.g. its key was deleted): `lost` resolves,
   * and the lease is revoked in the background.
   */
  abandon(reason: string): void {
    this.lose('abandoned', reason);
  }

  private keepAlive(): void {
    if (this.ended !== undefined) return;
    // A keepalive sent after the deadline could revive a lease we already count as lost.
    if (!this.check()) return;
    const sentAt = performance.now();
    // Detached: beats overlap when etcd is slow; each answer counts from its own `sentAt`.
    this.keepAliveOnce()
      .then((response) => {
        if (this.ended !== undefined) return;
        const ttl = Number(response.TTL);
        if (ttl <= 0) {
          this.lose('expired', 'etcd reports the lease expired');
          return;
        }
        this.confirmedUntil = Math.max(this.confirmedUntil, sentAt + ttl * 1000);
      })
      .catch((error: unknown) => {
        if (this.ended !== undefined) return;
        // The watchdog decides when silence has lasted too long; one failure is not a loss.
        this.options.log?.debug('etcd lease keepalive failed', {
          holder: this.options.holder,
          lease: this.hexId,
          error: String(error),
        });
      });
  }

  /** One keepalive on a stream of its own, so that each answer matches its request. */
  private async keepAliveOnce(): Promise<ILeaseKeepAliveResponse> {
    const stream = await this.options.client.leaseClient.leaseKeepAlive({
      deadline: Date.now() + this.ttlMs,
    });
    if (this.ended !== undefined) {
      stream.cancel();
      throw new Error('lease ended');
    }
    this.inFlight.add(stream);
    try {
      return await new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
        // The stream types offer `on` only; a promise settles once anyway.
        stream.on('data', resolve);
        stream.on('error', (error: Error) => reject(castGrpcError(error)));
        stream.write({ ID: this.id });
      });
    } finally {
      this.inFlight.delete(stream);
      stream.end();
    }
  }

  /** The watchdog: true while confirmed; loses the lease once the confirmation has run out. */
  private check(): boolean {
    if (this.ended !== undefined) return false;
    const left = this.confirmedUntil - performance.now();
    if (left <= 0) {
      this.lose('unconfirmed', `not confirmed alive within its ${this.ttlMs} ms TTL`);
      return false;
    }
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.check(), Math.ceil(left));
    return true;
  }

  private lose(end: LeaseEnd, reason: string): void {
    if (this.ended !== undefined) return;
    this.options.log?.warn('etcd lease lost', {
      holder: this.options.holder,
      lease: this.hexId,
      end,
      reason,
    });
    this.finish(end);
    // Detached on purpose: whoever waits on `lost` must not wait for etcd as well. If the lease is
    // still alive in etcd (we only lost the confirmation), this deletes its keys now.
    this.revokeInEtcd(ABANDON_REVOKE_MS).catch((error: unknown) => {
      this.options.log?.debug('etcd lease revoke after loss failed', {
        holder: this.options.holder,
        lease: this.hexId,
        error: String(error),
      });
    });
  }

  private finish(end: LeaseEnd): void {
    if (this.ended !== undefined) return;
    this.ended = end;
    clearInterval(this.beat);
    clearTimeout(this.watchdog);
    for (const stream of this.inFlight) stream.cancel();
    this.inFlight.clear();
    this.controller.abort(new LeaseEndedError(this.options.holder, end));
    this.resolveLost();
  }

  private async revokeInEtcd(timeoutMs?: number): Promise<void> {
    try {
      const response = await this.options.client.leaseClient.leaseRevoke(
        { ID: this.id },
        timeoutMs === undefined ? undefined : { deadline: Date.now() + timeoutMs },
      );
      this.options.onWrite?.(response.header);
    } catch (error) {
      // Already gone (expired, or revoked by another path): that is what we wanted.
      if (error instanceof EtcdLeaseInvalidError) return;
      throw error;
    }
  }
}

/** The reason a wait tied to a lease was cut short: the lease ended. */
export class LeaseEndedError extends Error {
  constructor(
    readonly holder: string,
    readonly end: LeaseEnd,
  ) {
    super(`the etcd lease of ${holder} ended (${end})`);
    this.name = 'LeaseEndedError';
  }
}
