/**
 * A first-in, first-out queue of distinct items whose `shift` and `delete` cost the same however
 * long it is. Waiters queue in arrays elsewhere, and an array's `shift()` copies what is left
 * once it is large (400,000 shifts of a 400,000-item array took 20 s here), as does taking one
 * out with `indexOf` + `splice` when its wait times out: a connection pool with 100,000 waiting
 * callers spent 4.3 s handing out connections.
 */
export class Fifo<T> {
  private items: Array<T | undefined> = [];
  private head = 0;
  /** Slots dropped from the front of `items` so far: a slot's number is `dropped` + its index. */
  private dropped = 0;
  /** What is queued, with the number of its slot (an item deleted and queued again has a new one). */
  private readonly queued = new Map<T, number>();
  /** Slots of deleted items still in `items`. */
  private deleted = 0;

  /** Items queued. */
  get length(): number {
    return this.queued.size;
  }

  /** Queues `item` last (an item already queued stays where it is). */
  push(item: T): void {
    if (this.queued.has(item)) return;
    this.queued.set(item, this.dropped + this.items.length);
    this.items.push(item);
  }

  /** The first item, left queued; undefined when none. */
  peek(): T | undefined {
    this.skipGone();
    return this.items[this.head];
  }

  /** Takes the first item out; undefined when none. */
  shift(): T | undefined {
    const item = this.peek();
    if (item === undefined) return undefined;
    this.queued.delete(item);
    this.items[this.head++] = undefined;
    this.compact();
    return item;
  }

  /**
   * Takes `item` out wherever it is; false when it was not queued. Its slot is passed over later,
   * and the slots are rebuilt once deleted ones are most of them: while one waiter stayed first
   * and 100,000 behind it gave up, their slots had kept them all (323 MB).
   */
  delete(item: T): boolean {
    if (!this.queued.delete(item)) return false;
    if (this.queued.size === 0) this.clear();
    else if (++this.deleted > 1024 && this.deleted > this.queued.size) this.rebuild();
    return true;
  }

  /** Takes every item out, first first. */
  drain(): T[] {
    const out = [...this];
    this.clear();
    return out;
  }

  /** The queued items, first first. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item !== undefined && this.isSlotOf(item, i)) yield item;
    }
  }

  private clear(): void {
    this.dropped += this.items.length;
    this.items = [];
    this.head = 0;
    this.deleted = 0;
    this.queued.clear();
  }

  /** The queued items alone in new slots, in order. */
  private rebuild(): void {
    const live = [...this];
    this.dropped += this.items.length;
    this.items = live;
    this.head = 0;
    this.deleted = 0;
    live.forEach((item, i) => this.queued.set(item, this.dropped + i));
  }

  private isSlotOf(item: T, index: number): boolean {
    return this.queued.get(item) === this.dropped + index;
  }

  /** Passes over the slots of items deleted while queued. */
  private skipGone(): void {
    while (this.head < this.items.length && !this.isSlotOf(this.items[this.head]!, this.head)) {
      this.items[this.head++] = undefined;
      this.deleted--;
    }
    this.compact();
  }

  /** Drops the consumed front once it is most of the array. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.dropped += this.head;
      this.head = 0;
    }
  }
}
