/**
 * One timer for many deadlines: a binary min-heap of (due time, key) with a single setTimeout armed
 * for the earliest entry. When entries fall due, `fire(key)` is called for each (typically adding
 * the key to a work queue, which de-duplicates). Scheduling the same key twice is allowed; the
 * consumer is level-based and treats an early or duplicate wake-up as a no-op. This keeps the
 * number of live timers at one however many pods are starting.
 */
export class Timeline {
  private readonly heap: { at: number; key: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;
  private readonly fire: (key: string) => void;
  private readonly now: () => number;

  constructor(fire: (key: string) => void, now: () => number = Date.now) {
    this.fire = fire;
    this.now = now;
  }

  /** Calls fire(key) at `at` (ms since the epoch), or right away (on the next tick) if that has passed. */
  schedule(key: string, at: number): void {
    if (this.stopped) return;
    this.push({ at, key });
    this.arm();
  }

  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first || this.stopped) return;
    if (this.timer && this.armedAt <= first.at) return;
    clearTimeout(this.timer);
    this.armedAt = first.at;
    this.timer = setTimeout(() => this.run(), Math.max(0, first.at - this.now()));
    this.timer.unref();
  }

  private run(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const due: string[] = [];
    while (this.heap.length > 0 && (this.heap[0]?.at ?? Infinity) <= now) due.push(this.pop().key);
    for (const key of due) {
      if (this.stopped) return;
      this.fire(key);
    }
    this.arm();
  }

  private push(entry: { at: number; key: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= entry.at) break;
      heap[i] = heap[parent] as { at: number; key: string };
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): { at: number; key: string } {
    const heap = this.heap;
    const top = heap[0] as { at: number; key: string };
    const last = heap.pop() as { at: number; key: string };
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        const at = (j: number) => (j === i ? last.at : (heap[j] as { at: number }).at);
        if (left < heap.length && at(left) < at(smallest)) smallest = left;
        if (right < heap.length && at(right) < at(smallest)) smallest = right;
        if (smallest === i) break;
        heap[i] = heap[smallest] as { at: number; key: string };
        i = smallest;
      }
      heap[i] = last;
    }
    return top;
  }
}
