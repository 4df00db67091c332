import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAge } from '../../functions/cli/commands/sweep.ts';
import { ingestObject } from '../../functions/core/pipeline/ingest-object.ts';
import { runCli } from '../support/cli.ts';
import { faultyPorts } from '../support/faulty-ports.ts';
import { drop, localHome } from '../support/local-home.ts';

describe('privacy-pipeline sweep', () => {
  it('reports, then deletes, the outputs of a run that crashed before committing', async () => {
    await using home = await localHome();
    await drop(home.ports, 'people/p.csv', 'customer_id,email\nC1,zed.sweep@example.com\n');
    const faulty = faultyPorts(home.ports, [{ port: 'lineage', op: 'append', fault: { kind: 'crash', when: 'before' } }]);
    await expect(ingestObject(faulty.ports, { key: 'people/p.csv' })).rejects.toThrow();
    const args = ['--home', join(home.dir, 'home'), 'sweep', '--older-than', '0'];

    const dry = await runCli([...args, '--dry-run'], { cwd: home.dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would delete \d+ orphaned object\(s\)/);
    expect(dry.stdout).toContain('people/p.csv');
    expect(dry.stdout).toMatch(/1 raw file\(s\) no committed run has read/);

    const real = await runCli([...args, '--json'], { cwd: home.dir });
    expect(real.code).toBe(0);
    const report = JSON.parse(real.stdout) as { orphans: unknown[]; recordIds: string[] };
    expect(report.orphans.length).toBeGreaterThan(0);
    expect(report.recordIds).toHaveLength(1);
    expect(real.stdout).not.toContain('zed.sweep');

    const again = await runCli(args, { cwd: home.dir });
    expect(again.stdout).toContain('no orphaned outputs');
    const lineage = await runCli(['--home', join(home.dir, 'home'), 'lineage', 'people'], { cwd: home.dir });
    expect(lineage.stdout).toMatch(/sweep .* orphaned object/);
  });

  it('rejects a malformed age with a usage error', async () => {
    await using home = await localHome();
    const r = await runCli(['--home', join(home.dir, 'home'), 'sweep', '--older-than', '3 weeks'], { cwd: home.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--older-than');
  });

  it.each([
    ['0', 0],
    ['90s', 90_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
  ])('parses %s', (text, ms) => expect(parseAge(text)).toBe(ms));

  it.each(['', '5', '-1h', '1.5h', '2w', 'h'])('refuses %j', (text) => expect(() => parseAge(text)).toThrow(/--older-than/));
});
