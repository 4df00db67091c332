/**
 * Runs the chunks of parallel runs on a pool of worker threads (`privacy-pipeline run
 * --workers N`). Each worker opens the same home folder; chunks are queued and handed to the
 * next idle worker. Started on the first chunk or by `warm`; `close` terminates the pool.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../core/errors.ts';
import type { ChunkExecutor, ChunkResult, ChunkSpec, RunSetup } from '../../core/pipeline/chunk-types.ts';
import { errorFromWire, type WireError } from '../../core/pipeline/wire-error.ts';

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
  private pool: PoolWorker[] | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(private readonly opts: { home: string; workers: number; logLevel?: string }) {
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 256) {
      throw new UsageError('workers must be an integer between 1 and 256', { rule: 'workers' });
    }
    this.concurrency = opts.workers;
  }

  /** A worker count that fits the machine: one per available core. */
  static defaultWorkers(): number {
    return availableParallelism();
  }

  /** Starts the workers now (they take a moment to load), e.g. while the input is being stored. */
  warm(): void {
    this.pool ??= this.start();
  }

  run(setup: RunSetup, chunk: ChunkSpec): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, setup, chunk, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await Promise.all(pool.map((p) => p.worker.terminate()));
  }

  private start(): PoolWorker[] {
    const entry = new URL('./chunk-worker.mjs', import.meta.url);
    const pool: PoolWorker[] = [];
    for (let i = 0; i < this.concurrency; i++) {
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
