/**
 * Runs the chunks of parallel runs on a pool of worker threads (`privacy-pipeline run
 * --workers N`). Each worker opens the same home folder; chunks are queued and handed to the
 * next idle worker. Started on the first chunk or by `warm`; `close` terminates the pool.
 *
 * With `inThread`, one of the N slots is this thread: it has the pipeline loaded and compiled
 * already (it sampled and planned the file), so N slots cost N - 1 worker start-ups and N - 1
 * cold caches instead of N. Measured on the 100 MB bench file with 2 slots: +18% CPU over one
 * pass with two workers, which capped the speed-up at about 1.45x (bench/run-bench.ts).
 * A chunk goes to an idle worker first and to this thread only when every worker is busy, and
 * the caller keeps this thread's slot free while it scans the file (`inThreadSlots`), so the
 * scan that feeds the workers never waits behind a chunk on the same thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../core/errors.ts';
import type { ChunkExecutor, ChunkResult, ChunkSpec, RunSetup } from '../../core/pipeline/chunk-types.ts';
import { inProcessExecutor } from '../../core/pipeline/process-chunk.ts';
import { errorFromWire, type WireError } from '../../core/pipeline/wire-error.ts';
import type { Ports } from '../../core/ports.ts';

interface Pending {
  readonly id: number;
  readonly setup: RunSetup;
  readonly chunk: ChunkSpec;
  resolve(r: ChunkResult): void;
  reject(e: unknown): void;
}

interface PoolWorker {
  readonly worker: Worker;
  job: Pending | undefined;
}

export class WorkerChunkExecutor implements ChunkExecutor {
  readonly concurrency: number;
  readonly inThreadSlots: number;
  private pool: PoolWorker[] | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;

  private readonly local: ChunkExecutor | undefined;
  private localBusy = false;
  private readonly poolSize: number;

  constructor(private readonly opts: { home: string; workers: number; logLevel?: string; inThread?: Ports }) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 256) {
      throw new UsageError('workers must be an integer between 1 and 256', { rule: 'workers' });
    }
    this.concurrency = opts.workers;
    this.local = opts.inThread ? inProcessExecutor(opts.inThread, 1) : undefined;
    this.poolSize = opts.workers - (this.local ? 1 : 0);
    this.inThreadSlots = this.local ? 1 : 0;
  }

  /** A worker count that fits the machine: one per available core. */
  static defaultWorkers(): number {
    return availableParallelism();
  }

  /** Starts the workers now (they take a moment to load), e.g. while the input is being stored. */
  warm(): void {
    if (this.poolSize > 0) this.pool ??= this.start();
  }

  run(setup: RunSetup, chunk: ChunkSpec): Promise<ChunkResult> {
    // The caller keeps at most `concurrency` chunks in flight: a free slot exists. A worker
    // first: this thread also serves the workers' messages and the caller's own work.
    if (this.local && (!this.localBusy || this.poolSize === 0) && !this.workerIdle()) {
      this.localBusy = true;
      return this.local.run(setup, chunk).finally(() => {
        this.localBusy = false;
      });
    }
    return new Promise<ChunkResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, setup, chunk, resolve, reject });
      this.pump();
    });
  }

  /** Whether a worker would take a chunk now (one still starting counts: its chunk waits in its inbox). */
  private workerIdle(): boolean {
    const workers = this.pool?.length ?? this.poolSize;
    const busy = (this.pool?.filter((p) => p.job !== undefined).length ?? 0) + this.queue.length;
    return busy < workers;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await Promise.all(pool.map((p) => p.worker.terminate()));
  }

  private start(): PoolWorker[] {
    const entry = new URL('./chunk-worker.mjs', import.meta.url);
    const pool: PoolWorker[] = [];
    for (let i = 0; i < this.poolSize; i++) {
      // A heap limit of 1 GiB makes V8 collect garbage early (peak memory near the live set, ~60 MB
      // a worker here) instead of growing towards a quarter of the machine's RAM; see bin/.
      const worker = new Worker(entry, {
        workerData: { home: this.opts.home, logLevel: this.opts.logLevel },
        resourceLimits: { maxOldGenerationSizeMb: 1024 },
      });
      const slot: PoolWorker = { worker, job: undefined };
      worker.on('message', (msg: { id: number; result?: ChunkResult; error?: WireError }) => {
        const job = slot.job;
        if (!job || job.id !== msg.id) return;
        slot.job = undefined;
        if (msg.error) job.reject(errorFromWire(msg.error));
        else job.resolve(msg.result as ChunkResult);
        this.pump();
      });
      worker.on('error', (err) => {
        // A crashed worker fails its chunk (a transient error: the run is retried, not quarantined).
        const job = slot.job;
        slot.job = undefined;
        job?.reject(errorFromWire({ name: err.name, message: 'a chunk worker crashed', permanent: false }));
        const at = pool.indexOf(slot);
        if (at >= 0) pool.splice(at, 1);
        this.pump();
      });
      pool.push(slot);
    }
    return pool;
  }

  private pump(): void {
    if (this.queue.length === 0) return;
    this.pool ??= this.start();
    if (this.pool.length === 0) {
      for (const job of this.queue.splice(0))
        job.reject(errorFromWire({ name: 'Error', message: 'no chunk worker is left', permanent: false }));
      return;
    }
    for (const slot of this.pool) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, setup: job.setup, chunk: job.chunk });
    }
  }
}
