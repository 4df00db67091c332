/**
 * Child-process worker for the local adapter tests: `node --import tsx worker.ts <command> <home> ...`.
 * Prints `ready`, waits for `go` on stdin (so the parent can start several workers at the same
 * moment), runs the command and prints one JSON line with the result.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsBudgetLedger } from '../../../../functions/adapters/local/fs-budget-ledger.ts';
import { FsIdempotencyStore } from '../../../../functions/adapters/local/fs-idempotency-store.ts';
import { FsLineageStore } from '../../../../functions/adapters/local/fs-lineage-store.ts';
import { FsObjectStore } from '../../../../functions/adapters/local/fs-object-store.ts';
import { encodeName, withFileLock } from '../../../../functions/adapters/local/fs-utils.ts';
import { LocalKeyService } from '../../../../functions/adapters/local/local-key-service.ts';
import { LocalSubjectKeyVault } from '../../../../functions/adapters/local/local-subject-key-vault.ts';
import { PreconditionFailedError, PrivacyBudgetExceededError } from '../../../../functions/core/errors.ts';

const [command, home, ...args] = process.argv.slice(2);
if (command === undefined || home === undefined) throw new Error('usage: worker.ts <command> <home> ...args');

async function waitForGo(): Promise<void> {
  const rl = createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  for await (const line of rl) {
    if (line.trim() === 'go') break;
  }
  rl.close();
}

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function emit(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const arg = (i: number): string => {
  const value = args[i];
  if (value === undefined) throw new Error(`missing argument ${i}`);
  return value;
};

switch (command) {
  case 'put-if-none-match': {
    // args: prefix count
    const store = new FsObjectStore(home, new LocalKeyService(home));
    await waitForGo();
    const wins: string[] = [];
    for (let i = 0; i < Number(arg(1)); i++) {
      const key = `${arg(0)}${i}`;
      try {
        await store.put('ingest', key, Buffer.from(`written by ${process.pid}`), { ifNoneMatch: '*' });
        wins.push(key);
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
    }
    emit({ pid: process.pid, wins });
    break;
  }
  case 'lineage-append': {
    // args: writer count
    const lineage = new FsLineageStore(home);
    await waitForGo();
    for (let i = 0; i < Number(arg(1)); i++) {
      await lineage.append({
        id: `${arg(0)}-${i}`,
        kind: 'run',
        dataset: 'ds',
        at: new Date().toISOString(),
        writer: arg(0),
        seq: i,
        padding: 'x'.repeat(300),
      });
    }
    emit({ done: true });
    break;
  }
  case 'budget-spend': {
    // args: dataset attempts tag epsilon totalEpsilon
    const ledger = new FsBudgetLedger(home);
    await waitForGo();
    const outcomes = await Promise.all(
      Array.from({ length: Number(arg(1)) }, (_, i) =>
        ledger.spend(arg(0), { epsilon: Number(arg(3)), delta: 0 }, { epsilon: Number(arg(4)), delta: 0 }, `${arg(2)}-${i}`).then(
          () => 'ok',
          (err: unknown) => {
            if (err instanceof PrivacyBudgetExceededError) return 'exceeded';
            throw err;
          },
        ),
      ),
    );
    emit({ ok: outcomes.filter((o) => o === 'ok').length, exceeded: outcomes.filter((o) => o === 'exceeded').length });
    break;
  }
  case 'claim': {
    // args: key owner
    const store = new FsIdempotencyStore(home);
    await waitForGo();
    emit(await store.claim(arg(0), arg(1), 60_000));
    // Stay alive a while: a claim whose holder process has died may be taken over, and this
    // test is about two live claimers.
    await new Promise((r) => setTimeout(r, 3000));
    break;
  }
  case 'keyring-first-use': {
    const keys = new LocalKeyService(home);
    await waitForGo();
    const hmac = await keys.pseudonymKey('token-hmac');
    const dataKey = await keys.generateDataKey({ purpose: 'probe' });
    emit({ hmac: sha(hmac.material), ref: hmac.ref, master: dataKey.ref.version });
    break;
  }
  case 'subject-key': {
    // args: subjectRef
    const vault = new LocalSubjectKeyVault(home, new LocalKeyService(home));
    await waitForGo();
    emit({ key: sha(await vault.getOrCreate(arg(0))) });
    break;
  }
  case 'slow-put': {
    // args: key — writes a few frames, reports `writing`, then stalls until killed
    const store = new FsObjectStore(home, new LocalKeyService(home), { frameSize: 1024 });
    await store.put('curated', arg(0), {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 8; i++) yield Buffer.alloc(1024, 0x4e);
        process.stdout.write('writing\n');
        await sleep(60_000);
        yield Buffer.alloc(1024, 0x4e);
      },
    });
    emit({ finished: true });
    break;
  }
  case 'hold-object-lock': {
    // args: bucket key — holds the object's commit lock until killed
    const lockPath = path.join(home, 'store', arg(0), '.locks', `${encodeName(arg(1))}.lock`);
    await withFileLock(lockPath, async () => {
      process.stdout.write('locked\n');
      await sleep(60_000);
    });
    break;
  }
  default:
    throw new Error(`unknown command ${command}`);
}
