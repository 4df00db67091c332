/**
 * What every command gets: where to write, whether to use colour, and the local ports.
 * Tests pass their own streams and environment; the real entry passes process's.
 */
import { resolve } from 'node:path';
import pc from 'picocolors';
import { createLocalPorts, resolveHome } from '../adapters/local/local-ports.ts';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export type LocalPorts = Awaited<ReturnType<typeof createLocalPorts>>;

export interface CliContext {
  readonly io: CliIo;
  readonly color: boolean;
  readonly colors: ReturnType<typeof pc.createColors>;
  out(line?: string): void;
  err(line?: string): void;
  /** Opens the local home once per command. */
  ports(home?: string, opts?: { logLevel?: string }): Promise<LocalPorts>;
}

export function createCliContext(io: CliIo): CliContext {
  const color = Boolean(io.stdout.isTTY) && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  let opened: Promise<LocalPorts> | undefined;
  return {
    io,
    color,
    colors: pc.createColors(color),
    out: (line = '') => io.stdout.write(`${line}\n`),
    err: (line = '') => io.stderr.write(`${line}\n`),
    ports(home, opts) {
      opened ??= createLocalPorts(resolve(io.cwd, resolveHome(home, io.env)), {
        ...(opts?.logLevel
          ? { logLevel: opts.logLevel }
          : io.env.PRIVACY_PIPELINE_LOG_LEVEL
            ? { logLevel: io.env.PRIVACY_PIPELINE_LOG_LEVEL }
            : {}),
      });
      return opened;
    },
  };
}
