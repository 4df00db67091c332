/**
 * The three rings, enforced: the core imports no AWS SDK, no Lambda types and no adapter, and
 * reads no environment; lib/ holds infrastructure only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
}

describe('architecture', () => {
  const core = sources('functions/core');

  it('has a core to check', () => {
    expect(core.length).toBeGreaterThan(30);
  });

  it.each(core.map((f) => [relative('.', f)]))('%s stays pure', (file) => {
    const bad = imports(file).filter(
      (spec) =>
        spec.startsWith('@aws-sdk/') ||
        spec.startsWith('@aws-lambda-powertools/') ||
        spec === 'aws-lambda' ||
        spec.includes('/adapters/') ||
        spec.includes('/handlers/') ||
        spec.includes('/cli/'),
    );
    expect(bad).toEqual([]);
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(code).not.toMatch(/process\.env/);
  });

  it('lib/ describes infrastructure: it bundles handlers by path and imports no pipeline code', () => {
    for (const file of sources('lib')) {
      // wire-error.ts is shared vocabulary: the error names Step Functions catches as permanent.
      const runtime = imports(file).filter((s) => /functions\/(handlers|core\/pipeline|cli)\//.test(s) && !s.endsWith('/wire-error.ts'));
      expect(runtime, file).toEqual([]);
    }
  });
});
