/**
 * `privacy-pipeline erase <identifier>`: a GDPR Art. 17 request carried out on the local store.
 * Prints the erasure certificate; never echoes the identifier.
 */
import { type Command, Option } from 'commander';
import { type ErasureCertificate, eraseSubject } from '../../core/erasure/erase-subject.ts';
import type { IdentifierType } from '../../core/pseudonymise/token.ts';
import type { CliContext } from '../cli-context.ts';
import { fmtInt } from '../format-run.ts';

const TYPES: readonly IdentifierType[] = ['email', 'phone', 'subject-id', 'card', 'iban', 'name', 'national-id'];

interface EraseOptions {
  type?: IdentifierType;
  reason?: string;
  requestedBy?: string;
  requestId?: string;
  region?: string;
  json?: boolean;
}

export function registerErase(program: Command, ctx: CliContext): void {
  program
    .command('erase')
    .description('erase a data subject everywhere (raw, curated, quarantine, old versions), keep them out of later ingests, and certify it')
    .argument('<identifier>', 'email, phone number, customer id, card, IBAN, name or national id of the subject')
    .addOption(new Option('-t, --type <type>', 'what the identifier is (default: guessed from its shape)').choices(TYPES))
    .option('--reason <text>', "why (recorded in the certificate; the subject's identifiers are redacted from it)")
    .option('--requested-by <id>', 'who asked, for the audit trail')
    .option('--request-id <id>', 'request id; repeating one returns its certificate')
    .option('--region <iso>', 'country for phone numbers without a country code, e.g. GB')
    .option('--json', 'print the certificate as JSON')
    .addHelpText(
      'after',
      '\nThe identifier is used in memory only: the certificate names the subject by a keyed token.' +
        '\nExit codes: 0 erased and verified, 1 verification failed or the request could not complete, 2 usage error.',
    )
    .action(async (identifier: string, opts: EraseOptions, cmd: Command) => {
      const ports = await ctx.ports(cmd.optsWithGlobals().home as string | undefined);
      const certificate = await eraseSubject(ports, {
        identifier,
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        ...(opts.requestedBy !== undefined ? { requestedBy: opts.requestedBy } : {}),
        ...(opts.requestId !== undefined ? { requestId: opts.requestId } : {}),
        ...(opts.region !== undefined ? { region: opts.region } : {}),
      });
      if (opts.json) {
        ctx.out(JSON.stringify(certificate, null, 2));
        return;
      }
      for (const line of renderCertificate(ctx, certificate)) ctx.out(line);
    });
}

/** The certificate for a terminal. */
export function renderCertificate(ctx: CliContext, cert: ErasureCertificate): string[] {
  const c = ctx.colors;
  const lines: string[] = [];
  lines.push(`${c.green('✔ erasure verified and certified')}  request ${c.bold(cert.requestId)}`);
  lines.push(`  subject       ${cert.identifierType}, ref ${cert.subjectRef} ${c.dim('(a keyed token, not the identifier)')}`);
  lines.push(
    `  found         ${fmtInt(cert.objectsFound)} candidate object(s) from ${fmtInt(cert.indexesTested)} subject index(es); ` +
      `${fmtInt(cert.objectsRead)} data object(s) read; ${fmtInt(cert.tokensMatched)} token(s) in the closure`,
  );
  lines.push(
    `  removed       ${fmtInt(cert.rowsRemoved)} row(s), ${fmtInt(cert.spansRedacted)} mention(s) redacted, ` +
      `${fmtInt(cert.versionsDeleted)} old version(s) deleted`,
  );
  for (const o of cert.objectsRewritten) {
    const rows =
      o.rowsRemoved > 0 ? `−${fmtInt(o.rowsRemoved)} row(s) (${fmtInt(o.rowsBefore)} → ${fmtInt(o.rowsAfter)})` : 'no row removed';
    const spans = o.spansRedacted > 0 ? `, ${fmtInt(o.spansRedacted)} mention(s)` : '';
    lines.push(`    ${c.dim(o.action.padEnd(15))} ${o.bucket}/${o.key}  ${rows}${spans}, ${fmtInt(o.versionsDeleted)} version(s) deleted`);
  }
  if (cert.objectsRewritten.length === 0) lines.push(`    ${c.dim('nothing held the subject (already erased?)')}`);
  lines.push(`  keep-out      ${fmtInt(cert.tokensSuppressed)} token(s) on the suppression list: later ingests drop this subject's rows`);
  lines.push(`  shredded      ${fmtInt(cert.subjectKeysShredded)} per-subject key(s)`);
  lines.push(
    `  verification  ${c.green(cert.verification)} (${fmtInt(cert.objectsVerified)} object version(s) re-read), ${cert.passes} pass(es), ${fmtInt(cert.durationMs)} ms`,
  );
  const ns = cert.notSearched;
  if (ns && ns.orphanedOutputs + ns.unprocessedRaw > 0) {
    lines.push(
      `  ${c.yellow('not searched')}  ${fmtInt(ns.orphanedOutputs)} object(s) lineage does not list (runs that never committed or are in flight), ` +
        `${fmtInt(ns.unprocessedRaw)} raw file(s) no committed run has read: run \`privacy-pipeline sweep\`, re-run the raw files, then repeat the request`,
    );
  }
  if (cert.reason !== undefined) lines.push(`  reason        ${cert.reason}`);
  if (cert.requestedBy !== undefined) lines.push(`  requested by  ${cert.requestedBy}`);
  lines.push(c.dim(`  certificate: lineage record erasure-${cert.requestId} (privacy-pipeline lineage --json)`));
  return lines;
}
