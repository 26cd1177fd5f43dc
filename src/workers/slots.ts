/**
 * A worker's slots: how many attempts execute at once. A claimed attempt asks for a slot and
 * gets one at once when one is free; otherwise it waits in line (oldest claim first) — but only
 * until its start deadline. A claimed-ahead attempt must start within a bound of its claim
 * (`startWithinMs` in its AttemptStarted, which the leader adds to its deadline), so a waiter
 * whose deadline passes is told `expired` and the worker hands it back unstarted.
 *
 * One timer serves the whole line: the waiters queue in claim order with the same bound, so the
 * oldest one always expires first.
 */

export type SlotGrant = 'granted' | 'expired' | 'withdrawn';

interface Waiter {
  /** performance.now() by which it must start. */
  readonly deadline: number;
  readonly settle: (grant: SlotGrant) => void;
}

export class Slots {
  private busy = 0;
  private readonly line: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(readonly capacity: number) {}

  /** Attempts executing now. */
  get running(): number {
    return this.busy;
  }

  /** Claimed attempts waiting for a slot. */
  get waiting(): number {
    return this.line.length - this.head;
  }

  /** A slot now if one is free; else waits in line until one frees or `deadline` passes. */
  acquire(deadline: number): Promise<SlotGrant> | SlotGrant {
    if (this.busy < this.capacity && this.waiting === 0) {
      this.busy++;
      return 'granted';
    }
    if (performance.now() >= deadline) return 'expired';
    return new Promise<SlotGrant>((settle) => {
      this.line.push({ deadline, settle });
      this.arm();
    });
  }

  /** Frees a slot: the oldest waiter still in time gets it; those past their deadline expire. */
  release(): void {
    this.busy--;
    this.expireDue();
    const next = this.shift();
    if (next) {
      this.busy++;
      next.settle('granted');
    }
    this.arm();
  }

  /** Sends every waiter away unstarted (the worker drains). */
  withdrawAll(): void {
    for (let w = this.shift(); w; w = this.shift()) w.settle('withdrawn');
    this.arm();
  }

  private shift(): Waiter | undefined {
    if (this.head >= this.line.length) return undefined;
    const waiter = this.line[this.head++];
    // Compact now and then, so the array does not grow with every attempt ever queued.
    if (this.head > 1024 && this.head * 2 > this.line.length) {
      this.line.splice(0, this.head);
      this.head = 0;
    }
    return waiter;
  }

  private expireDue(): void {
    const now = performance.now();
    while (this.head < this.line.length && (this.line[this.head] as Waiter).deadline <= now) {
      (this.shift() as Waiter).settle('expired');
    }
  }

  /** Keeps one timer at the oldest waiter's deadline, none when nobody waits. */
  private arm(): void {
    const oldest = this.line[this.head];
    const at = oldest?.deadline ?? Number.POSITIVE_INFINITY;
    if (at === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!oldest) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.expireDue();
        this.arm();
      },
      Math.max(0, at - performance.now()),
    );
  }
}
