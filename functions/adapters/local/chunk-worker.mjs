// Worker-thread entry of the local chunk executor: TypeScript sources run through tsx, which
// must be registered in each worker (loader hooks are per thread).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('./chunk-worker.ts');
