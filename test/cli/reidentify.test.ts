import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.ts';

const CONTRACT = [
  'dataset: patients',
  'columns:',
  '  - { name: patient_id, privacy: { entity: SUBJECT_ID, operator: encrypt } }',
  '  - { name: email, privacy: { entity: EMAIL_ADDRESS, operator: encrypt } }',
  '  - { name: ward, enum: [a, b] }',
].join('\n');
const CSV = 'patient_id,email,ward\nP-77,zoe.keller@example.ch,a\nP-78,yann.morel@example.fr,b\n';

describe('privacy-pipeline reidentify', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let home: string;
  let tokens: string[] = [];
  const env = { USER: 'dpo-anna' };
  const cli = (args: string[]) => runCli(['--home', home, ...args], { cwd: dir.path, env });

  beforeAll(async () => {
    dir = await tempDir();
    home = join(dir.path, 'home');
    await writeFile(join(dir.path, 'patients.csv'), CSV);
    await writeFile(join(dir.path, 'patients.contract.yaml'), CONTRACT);
    expect((await cli(['run', 'patients.csv', '--no-progress'])).code).toBe(0);
    const read = await cli(['read', 'patients']);
    tokens = read.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1] as string);
    expect(tokens.every((t) => t.startsWith('ENC_EMAIL_'))).toBe(true);
  });
  afterAll(() => dir[Symbol.asyncDispose]());

  it('prints the values and records the request under $USER', async () => {
    const out = await cli(['reidentify', ...tokens, '--reason', 'clinical follow-up, ticket 991', '--dataset', 'patients']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('zoe.keller@example.ch');
    expect(out.stdout).toContain('yann.morel@example.fr');
    expect(out.stderr).toContain('2 token(s) revealed to dpo-anna');
    const lineage = await cli(['lineage', '--json']);
    expect(lineage.stdout).toContain('"kind": "reidentification"');
    expect(lineage.stdout).toContain('"requestedBy": "dpo-anna"');
    expect(lineage.stdout).not.toContain('zoe.keller');
  });

  it('prints JSON and takes --as', async () => {
    const out = await cli(['reidentify', tokens[1] as string, '--reason', 'clinical follow-up, ticket 992', '--as', 'dr-who', '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual([{ token: tokens[1], entity: 'EMAIL_ADDRESS', value: 'yann.morel@example.fr' }]);
  });

  it('exits 1 without a reason, and on an altered token, printing no value', async () => {
    const noReason = await cli(['reidentify', tokens[0] as string]);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain('needs a reason');
    const t = tokens[0] as string;
    const altered = `${t.slice(0, 20)}${t[20] === 'A' ? 'B' : 'A'}${t.slice(21)}`;
    const bad = await cli(['reidentify', altered, '--reason', 'clinical follow-up, ticket 993']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('token 1 of 1');
    expect(bad.stdout + bad.stderr).not.toContain('zoe.keller');
  });
});
