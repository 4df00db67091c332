/** Starts `worker.ts` in a child process and talks to it line by line. */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../../../..');
const WORKER = path.join(HERE, 'worker.ts');

export interface Worker {
  readonly child: ChildProcess;
  /** Resolves when the worker printed `line`. */
  waitFor(line: string): Promise<void>;
  /** Releases a worker waiting for `go`. */
  go(): void;
  /** The JSON the worker printed last; rejects when it exits non-zero. */
  result<T>(): Promise<T>;
  /** SIGKILL, resolved once the process is gone (and reaped). */
  kill(): Promise<void>;
}

export function startWorker(command: string, home: string, ...args: string[]): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, command, home, ...args], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    buffered += text;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => x.line === line)) w.resolve();
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    waitFor(line) {
      if (lines.includes(line)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ line, resolve });
        exited.then((code) => reject(new Error(`worker exited (${code}) before '${line}': ${stderr}`)));
      });
    },
    go() {
      child.stdin?.write('go\n');
    },
    async result<T>() {
      const code = await exited;
      if (code !== 0) throw new Error(`worker ${command} exited with ${code}: ${stderr}`);
      const last = lines.filter((l) => l.startsWith('{')).at(-1);
      if (last === undefined) throw new Error(`worker ${command} printed no result: ${stderr}`);
      return JSON.parse(last) as T;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Starts workers, waits until all are ready, then releases them together. */
export async function runTogether<T>(workers: Worker[]): Promise<T[]> {
  await Promise.all(workers.map((w) => w.waitFor('ready')));
  for (const w of workers) w.go();
  return Promise.all(workers.map((w) => w.result<T>()));
}
