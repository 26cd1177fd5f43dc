/**
 * What "from now on" means for `watch(prefix)`. A watch starts at the revision etcd reports when
 * it is set up, a few milliseconds after `subscribe`; a write this adapter makes in between would
 * be missed, though it came after the subscription. So each pending watch start holds a mark, every
 * write of the adapter lowers the mark to its revision, and the watch starts at the lower of the two.
 */
import type { IResponseHeader } from 'etcd3';

export class OwnWrites {
  private readonly marks = new Set<WriteMark>();

  /** Starts noting this adapter's writes; release the mark once the watch has started. */
  mark(): WriteMark {
    const mark = new WriteMark(() => this.marks.delete(mark));
    this.marks.add(mark);
    return mark;
  }

  /** Notes a write of this adapter, by the header of its response. */
  wrote(header: IResponseHeader): void {
    const revision = BigInt(header.revision);
    for (const mark of this.marks) mark.lower(revision);
  }
}

export class WriteMark {
  private lowest: bigint | undefined;

  constructor(readonly release: () => void) {}

  lower(revision: bigint): void {
    if (this.lowest === undefined || revision < this.lowest) this.lowest = revision;
  }

  /** The revision to start a watch at: `next`, or the first write since the mark if earlier. */
  startOf(next: string): string {
    return this.lowest !== undefined && this.lowest < BigInt(next) ? this.lowest.toString() : next;
  }
}
