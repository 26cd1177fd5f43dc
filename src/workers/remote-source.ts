/**
 * The WorkSource of a worker in its own process: it finds the scheduler leader through the
 * coordination port (the leader proclaims its dispatch address) and pulls work from it over HTTP
 * long-poll (src/scheduler/remote/protocol.ts), authenticated with the cluster token.
 *
 * When the leader changes, the poll waiting at the old one is cut at once and the next poll goes
 * to the new one, so a worker reconnects as soon as the election is observed. Without a leader,
 * a poll waits for one (up to its wait) and returns nothing.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from 'rxjs';
import { Agent, request } from 'undici';
import { type Coordination, SCHEDULER_ELECTION } from '../coordination/types.js';
import type { Logger } from '../observability/logger.js';
import { type PollRequest, pollResponseSchema } from '../scheduler/remote/protocol.js';
import type { PollOptions, PollResult, WorkerInfo, WorkSource } from '../scheduler/work-source.js';

export interface RemoteWorkSourceOptions {
  readonly coordination: Pick<Coordination, 'observeLeader'>;
  readonly token: string;
  readonly log: Logger;
}

const EMPTY: PollResult = { items: [], cancel: [] };
/** After a refusal that a moment will fix (not the leader, not registered yet): pause this long. */
const REFUSAL_PAUSE_MS = 200;
/** After a poll that could not reach the leader: pause this long (or until a new leader is known). */
const UNREACHABLE_PAUSE_MS = 250;

export class RemoteWorkSource implements WorkSource {
  private leader: string | undefined;
  private leaderChange = new AbortController();
  private readonly subscription: Subscription;
  private readonly agent = new Agent({ keepAliveTimeout: 60_000, connections: 8 });
  private readonly workers = new Map<string, WorkerInfo>();
  /** Polls given up on, whose answers the leader should take back (sent with the next poll). */
  private discarded: string[] = [];
  /** The leader address last found unreachable (logged once, not on every retry). */
  private unreachable: string | undefined;

  constructor(private readonly options: RemoteWorkSourceOptions) {
    this.subscription = options.coordination.observeLeader(SCHEDULER_ELECTION).subscribe({
      next: (leader) => {
        const address = leader?.value.address;
        if (address === this.leader) return;
        this.options.log.info('scheduler leader changed', {
          leader: address ?? null,
          term: leader?.value.term,
        });
        this.leader = address;
        this.discarded = [];
        const previous = this.leaderChange;
        this.leaderChange = new AbortController();
        previous.abort(LEADER_CHANGED);
      },
      error: (error) => this.options.log.error('watching the leader failed', { error: String(error) }),
    });
  }

  /** The dispatch address of the leader this worker pulls from (undefined: none known). */
  get leaderAddress(): string | undefined {
    return this.leader;
  }

  async join(worker: WorkerInfo): Promise<void> {
    this.workers.set(worker.id, worker);
  }

  /** Tells the leader this worker is going (a drain, not a loss); best effort. */
  async leave(workerId: string): Promise<void> {
    this.workers.delete(workerId);
    const leader = this.leader;
    if (!leader) return;
    try {
      const response = await request(`${leader}/v1/leave`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify({ workerId }),
        dispatcher: this.agent,
        signal: AbortSignal.timeout(2000),
      });
      await response.body.dump();
    } catch (error) {
      this.options.log.warn('telling the leader we leave failed', { error: String(error) });
    }
  }

  async poll(workerId: string, credits: number, options: PollOptions): Promise<PollResult> {
    const worker = this.workers.get(workerId);
    if (!worker) throw new Error(`worker ${workerId} has not joined`);
    const change = this.leaderChange.signal;
    const leader = this.leader;
    if (!leader) {
      await pause(options.waitMs, [options.signal, change]);
      return EMPTY;
    }
    const signal = AbortSignal.any([change, ...(options.signal ? [options.signal] : [])]);
    const pollId = randomUUID();
    const discarded = this.discarded.splice(0, 100);
    const body: PollRequest = {
      worker: { ...worker, labels: [...worker.labels] },
      credits,
      waitMs: options.waitMs,
      pollId,
      discarded,
    };
    let response: Awaited<ReturnType<typeof request>>;
    let answer: unknown;
    try {
      response = await request(`${leader}/v1/poll`, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify(body),
        dispatcher: this.agent,
        signal,
        headersTimeout: options.waitMs + 15_000,
        bodyTimeout: 15_000,
      });
      answer = response.statusCode === 200 ? await response.body.json() : undefined;
    } catch (error) {
      // Whatever the answer carried never reached us: tell the leader with the next poll (a new
      // leader does not know the ids and ignores them).
      if (!change.aborted) this.discarded.push(...discarded, pollId);
      if (signal.aborted) return EMPTY;
      // The leader is unreachable (it died, or the network failed): try again shortly, or at
      // once when the election names a new leader — the usual end of this state.
      if (this.unreachable !== leader) {
        this.unreachable = leader;
        this.options.log.warn('the scheduler leader is unreachable', { leader, error: String(error) });
      }
      await pause(UNREACHABLE_PAUSE_MS, [options.signal, this.leaderChange.signal]);
      return EMPTY;
    }
    this.unreachable = undefined;
    if (response.statusCode === 200) {
      const parsed = pollResponseSchema.safeParse(answer);
      if (!parsed.success) throw new Error(`the leader at ${leader} sent a malformed poll answer`);
      return { items: parsed.data.items, cancel: parsed.data.cancel };
    }
    const text = await response.body.text().catch(() => '');
    if (response.statusCode === 503 || response.statusCode === 409) {
      // Not the leader (any more), or our registration is not visible yet: both pass quickly.
      await pause(REFUSAL_PAUSE_MS, [options.signal, this.leaderChange.signal]);
      return EMPTY;
    }
    throw new Error(`the leader at ${leader} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  }

  async close(): Promise<void> {
    this.subscription.unsubscribe();
    this.leaderChange.abort(LEADER_CHANGED);
    await this.agent.close();
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' };
  }
}

const LEADER_CHANGED = new Error('the scheduler leader changed');

function pause(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (live.some((s) => s.aborted)) return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of live) s.addEventListener('abort', done, { once: true });
  });
}
