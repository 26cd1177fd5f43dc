/** A double-ended queue on a growable ring buffer: O(1) at both ends. */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  pushBack(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = item;
    this.count++;
  }

  popFront(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return item;
  }

  popBack(): T | undefined {
    if (this.count === 0) return undefined;
    const index = (this.head + this.count - 1) % this.items.length;
    const item = this.items[index];
    this.items[index] = undefined;
    this.count--;
    return item;
  }

  /** Removes and returns every item for which `take` is true, keeping the others in order. */
  drain(take: (item: T) => boolean = () => true): T[] {
    const taken: T[] = [];
    const kept: T[] = [];
    for (let item = this.popFront(); item !== undefined; item = this.popFront()) {
      (take(item) ? taken : kept).push(item);
    }
    for (const item of kept) this.pushBack(item);
    return taken;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
