#!/usr/bin/env node
// CLI entry. TypeScript sources run through tsx, so a fresh clone needs no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Peak memory: with V8's default heap limit on a large machine (a quarter of RAM), V8 lets
// garbage grow the heap to ~350 MB on a 100 MB file although the live set is ~60 MB; with a limit
// of 1 GiB it collects earlier (~230 MB peak, same speed; bench/run-bench.ts). Applied by
// re-running Node once with the flag, unless the user chose a heap size.
const { getHeapStatistics } = await import('node:v8');
if (getHeapStatistics().heap_size_limit > 1.5 * 1024 ** 3 && !process.env.PRIVACY_PIPELINE_HEAP_SET) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--max-old-space-size=1024', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PRIVACY_PIPELINE_HEAP_SET: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  await run();
}

async function run() {
  const { register } = await import('tsx/esm/api');
  register();
  // A reader that closes the pipe early (`… | head`) ends the command quietly, as with other Unix
  // tools; without a listener the stream's error event would crash with a stack trace.
  process.stdout.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const { main } = await import('../functions/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
