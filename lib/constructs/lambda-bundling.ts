/**
 * How every Lambda handler is bundled: the esbuild settings the CDK constructs pass to
 * NodejsFunction (see `nodejsBundling` in pipeline-function.ts) and `npm run bench` measures
 * bundle sizes with, so the size the bench reports is the size that is deployed. Plain data, no
 * CDK import, so the bench can use it without loading aws-cdk-lib.
 */

/** Deployed bundles should stay at or below this size (minified, @aws-sdk/* external), for cold starts. */
export const LAMBDA_BUNDLE_LIMIT_BYTES = 2 * 1024 * 1024;

/** The esbuild options of a handler bundle, in esbuild's own terms. */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  // The Node.js 24 runtime ships AWS SDK v3; bundling it would add megabytes.
  external: ['@aws-sdk/*'],
  minify: true,
  // Error class names are what logs report and what Step Functions' Retry and Catch match;
  // minification would rename them.
  keepNames: true,
  // Some dependencies still call require(); ESM bundles need it defined.
  banner: {
    js: "import { createRequire as __ppCreateRequire } from 'node:module'; const require = __ppCreateRequire(import.meta.url);",
  },
} as const;
