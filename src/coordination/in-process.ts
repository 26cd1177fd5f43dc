/**
 * Coordination inside one process (`dagrun run`, `dagrun standalone`): the first candidate leads
 * at once, the registry is a map, locks are queues. Nothing expires: a process that dies takes
 * all of it with it. Implements the same port, and passes the same contract tests, as the etcd
 * adapter.
 */
import { BehaviorSubject, concat, defer, from, type Observable, Subject } from 'rxjs';
import { filter, map } from 'rxjs/operators';
import { LockTimeoutError } from '../errors.js';
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
} from './types.js';

interface Election {
  current: (Leadership & { value: LeaderValue }) | undefined;
  readonly waiters: (() => void)[];
  readonly leader: BehaviorSubject<LeaderInfo | undefined>;
}

const WORKERS = 'workers/';

export class InProcessCoordination implements Coordination {
  private readonly elections = new Map<string, Election>();
  private readonly registry = new Map<string, WorkerRecord>();
  /** Held locks, each with the waiters in line for it. */
  private readonly locks = new Map<string, (() => void)[]>();
  private readonly changes = new Subject<WatchEvent>();
  private closed = false;

  async campaign(election: string, candidateId: string, options: CampaignOptions = {}): Promise<Leadership> {
    const state = this.election(election);
    const { signal } = options;
    signal?.throwIfAborted();
    while (state.current) {
      await new Promise<void>((resolve, reject) => {
        const waiter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        // Leave the line: a resign must wake the next live candidate, not this one.
        const onAbort = () => {
          const index = state.waiters.indexOf(waiter);
          if (index >= 0) state.waiters.splice(index, 1);
          reject(signal?.reason);
        };
        state.waiters.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    let release!: () => void;
    const lost = new Promise<void>((resolve) => {
      release = resolve;
    });
    const leadership: Leadership & { value: LeaderValue } = {
      candidateId,
      lost,
      value: options.value ?? {},
      proclaim: async (value) => {
        if (state.current !== leadership) return;
        leadership.value = value;
        state.leader.next({ id: candidateId, value });
      },
      resign: async () => {
        if (state.current !== leadership) return;
        state.current = undefined;
        release();
        state.leader.next(undefined);
        state.waiters.shift()?.();
      },
    };
    state.current = leadership;
    state.leader.next({ id: candidateId, value: leadership.value });
    return leadership;
  }

  observeLeader(election: string): Observable<LeaderInfo | undefined> {
    return this.election(election).leader.asObservable();
  }

  async register(worker: WorkerRecord): Promise<Registration> {
    this.registry.set(worker.id, worker);
    this.changes.next({ type: 'put', key: WORKERS + worker.id, value: JSON.stringify(worker) });
    let release!: () => void;
    const lost = new Promise<void>((resolve) => {
      release = resolve;
    });
    return {
      lost,
      revoke: async () => {
        if (this.registry.get(worker.id) !== worker) return;
        this.registry.delete(worker.id);
        this.changes.next({ type: 'delete', key: WORKERS + worker.id });
        release();
      },
    };
  }

  async workers(): Promise<WorkerRecord[]> {
    return [...this.registry.values()];
  }

  watchWorkers(): Observable<RegistryChange> {
    return concat(
      defer(() => from([...this.registry.values()].map((worker) => ({ type: 'put', worker }) as const))),
      this.watch(WORKERS).pipe(
        map(
          (event): RegistryChange =>
            event.type === 'put'
              ? { type: 'put', worker: JSON.parse(event.value ?? '{}') as WorkerRecord }
              : { type: 'delete', workerId: event.key.slice(WORKERS.length) },
        ),
      ),
    );
  }

  async lock(name: string, options: LockOptions): Promise<Lock> {
    options.signal?.throwIfAborted();
    const waiters = this.locks.get(name);
    if (waiters === undefined) {
      this.locks.set(name, []);
    } else {
      // Held: wait in line; `release` hands the lock straight to the first in line.
      await new Promise<void>((resolve, reject) => {
        const waiter = () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const giveUp = (error: unknown) => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          options.signal?.removeEventListener('abort', onAbort);
          reject(error);
        };
        const onAbort = () => giveUp(options.signal?.reason);
        const timer = setTimeout(() => giveUp(new LockTimeoutError(name, options.waitMs)), options.waitMs);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
      });
    }
    let released = false;
    return {
      lost: new Promise<void>(() => {}),
      release: async () => {
        if (released) return;
        released = true;
        const queue = this.locks.get(name) ?? [];
        const next = queue.shift();
        if (next) next();
        else this.locks.delete(name);
      },
    };
  }

  watch(prefix: string): Observable<WatchEvent> {
    return this.changes.pipe(filter((event) => event.key.startsWith(prefix)));
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('coordination is closed');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const state of this.elections.values()) await state.current?.resign();
    this.changes.complete();
  }

  private election(name: string): Election {
    let state = this.elections.get(name);
    if (!state) {
      state = {
        current: undefined,
        waiters: [],
        leader: new BehaviorSubject<LeaderInfo | undefined>(undefined),
      };
      this.elections.set(name, state);
    }
    return state;
  }
}
