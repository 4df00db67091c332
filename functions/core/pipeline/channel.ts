/**
 * A bounded single-consumer channel: the pipeline pushes rows, an output writer pulls them as an
 * async iterable. `push` returns a promise only when the buffer is full, so the hot path allocates
 * nothing per row while the consumer keeps up, and a slow writer (multipart upload) slows the
 * reader down instead of letting memory grow.
 */
export class Channel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private head = 0;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(private readonly capacity = 1024) {}

  /** Adds a value; resolves later when the buffer is full. Throws if the consumer failed. */
  push(value: T): void | Promise<void> {
    if (this.failure) throw this.failure.error;
    if (this.closed) throw new Error('push after close');
    this.buffer.push(value);
    this.wake('consumer');
    if (this.buffer.length - this.head >= this.capacity) {
      return new Promise<void>((resolve) => {
        this.wakeProducer = resolve;
      }).then(() => {
        if (this.failure) throw this.failure.error;
      });
    }
  }

  close(): void {
    this.closed = true;
    this.wake('consumer');
  }

  /** Ends the channel with an error, seen by both sides. */
  fail(error: unknown): void {
    if (!this.failure) this.failure = { error };
    this.wake('consumer');
    this.wake('producer');
  }

  private wake(side: 'consumer' | 'producer'): void {
    const fn = side === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (side === 'consumer') this.wakeConsumer = undefined;
    else this.wakeProducer = undefined;
    fn?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.failure) throw this.failure.error;
        if (this.head < this.buffer.length) {
          const value = this.buffer[this.head] as T;
          this.head++;
          if (this.head > 4096 && this.head * 2 > this.buffer.length) {
            this.buffer.splice(0, this.head);
            this.head = 0;
          }
          if (this.buffer.length - this.head < this.capacity / 2) this.wake('producer');
          yield value;
          continue;
        }
        if (this.closed) return;
        this.wake('producer');
        await new Promise<void>((resolve) => {
          this.wakeConsumer = resolve;
        });
      }
    } finally {
      // A consumer that stops early (error or break) must not leave the producer waiting.
      if (!this.closed && !this.failure) this.fail(new Error('channel consumer stopped'));
    }
  }
}
