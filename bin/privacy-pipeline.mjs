#!/usr/bin/env node
// CLI entry. TypeScript sources run through tsx, so a fresh clone needs no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
