/**
 * Fault injection around any Ports (local or AWS): chosen calls of chosen operations fail the way
 * real dependencies fail. A rule names a port and an operation, optionally a predicate over the
 * call's arguments, and which matching calls it hits (the nth, and how many from there).
 *
 * Faults:
 * - `reject`: the call fails before doing anything (throttling, an outage).
 * - `after`: the call takes effect, then fails (a lost response: the write happened, the caller
 *   does not know; e.g. DynamoDB applied a put and the retry sees ConditionalCheckFailed).
 * - `body-breaks`: `objects.get` returns a body that throws after N chunks (an S3 read error
 *   in mid-stream).
 * - `put-aborts`: `objects.put` consumes N chunks of the body, then rejects without writing (a
 *   failed multipart upload: parts sent, never completed).
 * - `crash`: the process dies at this call (`before` it takes effect or `after`). This call and
 *   every later call through the same wrapper throw ProcessCrashed, so nothing cleans up (the
 *   idempotency claim stays in progress, as after a real crash). `revive()` starts a new process.
 *
 * Every rule counts how often it fired, so a test can prove its fault was really injected.
 */
import { TransientError } from '../../functions/core/errors.ts';
import type { KeyService, ObjectStore, Ports } from '../../functions/core/ports.ts';

export type PortName = 'objects' | 'keys' | 'subjectKeys' | 'lineage' | 'idempotency' | 'budget' | 'suppression' | 'contracts';

export type Fault =
  | { readonly kind: 'reject'; readonly error: () => Error }
  | { readonly kind: 'after'; readonly error: () => Error }
  | { readonly kind: 'body-breaks'; readonly afterChunks: number; readonly error: () => Error }
  | { readonly kind: 'put-aborts'; readonly afterChunks: number; readonly error: () => Error }
  | { readonly kind: 'crash'; readonly when: 'before' | 'after' };

export interface FaultRule {
  readonly port: PortName;
  readonly op: string;
  /** Only calls whose arguments pass count as matching. */
  readonly match?: (args: readonly unknown[]) => boolean;
  /** The first matching call (1-based) that fails. @default 1 */
  readonly nth?: number;
  /** How many matching calls from the nth on fail. @default 1 */
  readonly times?: number;
  readonly fault: Fault;
}

/** What a crashed process's later calls throw. Not a pipeline error: it counts as transient. */
export class ProcessCrashed extends Error {
  override readonly name = 'ProcessCrashed';
}

/** An operation call seen by the wrapper, for assertions on what the core did. */
export interface CallRecord {
  readonly port: PortName;
  readonly op: string;
  readonly args: readonly unknown[];
}

export interface FaultyPorts {
  readonly ports: Ports;
  /** Times each rule fired, by index in the rule list. */
  readonly fired: number[];
  readonly calls: CallRecord[];
  /** True once a crash fault fired (until revive). */
  readonly crashed: boolean;
  /** A new process over the same stores: the crash is over, the rules keep their counters. */
  revive(): void;
  /** Called before every operation (after the crash check): a place for probes. */
  onCall?: (call: CallRecord) => void | Promise<void>;
}

const PORTS: readonly PortName[] = ['objects', 'keys', 'subjectKeys', 'lineage', 'idempotency', 'budget', 'suppression', 'contracts'];

export interface FaultyPortsOptions {
  /**
   * Rebuilds the object store over the faulty key service, for stores that call the key service
   * themselves (the local store wraps each object's data key): KMS faults then reach object I/O.
   */
  readonly objects?: (keys: KeyService) => ObjectStore;
}

/** Wraps `base`; faults fire according to `rules`. */
export function faultyPorts(base: Ports, rules: readonly FaultRule[], opts: FaultyPortsOptions = {}): FaultyPorts {
  const fired = rules.map(() => 0);
  const seen = rules.map(() => 0);
  const calls: CallRecord[] = [];
  let crashed = false;
  const state: FaultyPorts = {
    ports: base,
    fired,
    calls,
    get crashed() {
      return crashed;
    },
    revive() {
      crashed = false;
    },
  };

  const faultFor = (port: PortName, op: string, args: readonly unknown[]): Fault | undefined => {
    let found: Fault | undefined;
    rules.forEach((rule, i) => {
      if (found || rule.port !== port || rule.op !== op) return;
      if (rule.match && !rule.match(args)) return;
      seen[i] = (seen[i] ?? 0) + 1;
      const first = rule.nth ?? 1;
      const n = seen[i] as number;
      if (n >= first && n < first + (rule.times ?? 1)) {
        fired[i] = (fired[i] ?? 0) + 1;
        found = rule.fault;
      }
    });
    return found;
  };

  const dead = (port: PortName, op: string) => new ProcessCrashed(`process crashed (call to ${port}.${op} after the crash)`);

  const wrapMethod = (port: PortName, op: string, target: object, fn: (...a: unknown[]) => unknown) => {
    const isIterable = op === 'list' || op === 'listVersions';
    if (isIterable) {
      // list/listVersions return async iterables synchronously; faults apply when iteration starts.
      return (...args: unknown[]) => {
        const record: CallRecord = { port, op, args };
        return (async function* () {
          if (crashed) throw dead(port, op);
          calls.push(record);
          await state.onCall?.(record);
          const fault = faultFor(port, op, args);
          if (fault?.kind === 'crash') {
            crashed = true;
            throw dead(port, op);
          }
          if (fault?.kind === 'reject') throw fault.error();
          yield* fn.apply(target, args) as AsyncIterable<unknown>;
          if (fault?.kind === 'after') throw fault.error();
        })();
      };
    }
    return async (...args: unknown[]) => {
      if (crashed) throw dead(port, op);
      const record: CallRecord = { port, op, args };
      calls.push(record);
      await state.onCall?.(record);
      const fault = faultFor(port, op, args);
      if (fault === undefined) return fn.apply(target, args);
      switch (fault.kind) {
        case 'reject':
          throw fault.error();
        case 'crash':
          if (fault.when === 'after') await fn.apply(target, args);
          crashed = true;
          throw dead(port, op);
        case 'after':
          await fn.apply(target, args);
          throw fault.error();
        case 'body-breaks': {
          const result = (await fn.apply(target, args)) as { info: unknown; body: AsyncIterable<Uint8Array> };
          return { ...result, body: breakAfter(result.body, fault.afterChunks, fault.error) };
        }
        case 'put-aborts': {
          const body = args[2] as AsyncIterable<Uint8Array> | Uint8Array;
          if (!(body instanceof Uint8Array)) {
            let n = 0;
            for await (const _ of body) if (++n >= fault.afterChunks) break;
          }
          throw fault.error();
        }
      }
    };
  };

  const wrap = <T extends object>(port: PortName, target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver);
        if (typeof prop !== 'string' || typeof value !== 'function') return value;
        return wrapMethod(port, prop, t, value as (...a: unknown[]) => unknown);
      },
    });
  const wrapped: Record<string, unknown> = { ...base };
  for (const port of PORTS) wrapped[port] = wrap(port, base[port]);
  if (opts.objects) wrapped.objects = wrap('objects', opts.objects(wrapped.keys as KeyService));
  (state as { ports: Ports }).ports = wrapped as unknown as Ports;
  return state;
}

/** A body that yields `n` chunks and then fails. */
async function* breakAfter(body: AsyncIterable<Uint8Array>, n: number, error: () => Error): AsyncGenerator<Uint8Array> {
  let i = 0;
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (i >= n) throw error();
      const next = await it.next();
      if (next.done) throw error(); // shorter than n chunks: still fails, as a reset connection would
      i++;
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}

/** A throttling error as the AWS adapters map it (DynamoDB ProvisionedThroughputExceeded, KMS ThrottlingException). */
export const throttled = (what: string) => () => new TransientError(`${what} throttled; retry`, { rule: 'throttled' });

/** A clock whose time can be moved forward (claim expiry after a crash). */
export class SkewClock {
  private skewMs = 0;
  now(): Date {
    return new Date(Date.now() + this.skewMs);
  }
  advance(ms: number): void {
    this.skewMs += ms;
  }
}
