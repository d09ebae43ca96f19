import type { Watch, WatchEvent } from './types.js';
import { UnavailableError } from './errors.js';

/**
 * The consumer side of a watch: producers push events (or fail it); one consumer iterates.
 * Events are buffered without loss; `maxBuffered` bounds memory for a consumer that stopped reading,
 * failing the watch (the consumer resumes from its last revision) rather than growing without end.
 */
export class WatchQueue implements Watch {
  private buffer: WatchEvent[] = [];
  private head = 0;
  private waiter: (() => void) | undefined;
  private error: Error | undefined;
  private ended = false;
  private readonly onClose: () => void;
  private readonly maxBuffered: number;

  constructor(onClose: () => void, maxBuffered = 1_000_000) {
    this.onClose = onClose;
    this.maxBuffered = maxBuffered;
  }

  get closed(): boolean {
    return this.ended || this.error !== undefined;
  }

  push(event: WatchEvent): void {
    if (this.closed) return;
    if (this.buffer.length - this.head >= this.maxBuffered) {
      this.fail(new UnavailableError(`watch consumer fell behind by ${this.maxBuffered} events; resume from the last revision seen`));
      return;
    }
    this.buffer.push(event);
    this.wake();
  }

  /** Ends the watch with an error, delivered after the events already buffered. */
  fail(error: Error): void {
    if (this.closed) return;
    this.error = error;
    this.onClose();
    this.wake();
  }

  close(): void {
    if (this.closed) return;
    this.ended = true;
    this.onClose();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    for (;;) {
      if (this.ended) return;
      if (this.head < this.buffer.length) {
        const event = this.buffer[this.head++] as WatchEvent;
        if (this.head > 1024 && this.head * 2 > this.buffer.length) {
          this.buffer = this.buffer.slice(this.head);
          this.head = 0;
        }
        yield event;
        continue;
      }
      if (this.error) throw this.error;
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }
}
