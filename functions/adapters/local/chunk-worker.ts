/**
 * A worker thread of the local chunk executor: processes the chunks it is sent with its own
 * ports over the same home folder (objects, keys, suppression list). The row transformer of the
 * current run is kept between chunks, so token caches stay warm.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkSpec, RunSetup } from '../../core/pipeline/chunk-types.ts';
import { createRunContext, processChunk, type RunContext, toChunkResult } from '../../core/pipeline/process-chunk.ts';
import { errorToWire } from '../../core/pipeline/wire-error.ts';
import { createLocalPorts } from './local-ports.ts';

/** A message from the executor. */
export interface ChunkRequest {
  readonly id: number;
  readonly setup: RunSetup;
  readonly chunk: ChunkSpec;
}

const { home, logLevel } = workerData as { home: string; logLevel?: string };
const portsReady = createLocalPorts(home, { logLevel: logLevel ?? 'warn' });
let context: { runId: string; ctx: Promise<RunContext> } | undefined;

parentPort?.on('message', (req: ChunkRequest) => {
  void handle(req);
});

async function handle(req: ChunkRequest): Promise<void> {
  try {
    const ports = await portsReady;
    if (context?.runId !== req.setup.runId) context = { runId: req.setup.runId, ctx: createRunContext(ports, req.setup) };
    const outcome = await processChunk(ports, req.setup, req.chunk, await context.ctx);
    const result = toChunkResult(outcome);
    parentPort?.postMessage({ id: req.id, result }, [result.curatedIndex.buffer, result.quarantineIndex.buffer] as ArrayBuffer[]);
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: errorToWire(err) });
  }
}
