// `warren doctor`: one line per check, a fix under every problem; exit 0 only when up can work.
import { runDoctor, type CheckStatus } from '../ops/doctor.ts';
import type { CliArgs } from './args.ts';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

export async function doctorCommand(args: CliArgs): Promise<number> {
  const report = await runDoctor(args.stateDir ? { stateDir: args.stateDir } : {});
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  }
  const width = Math.max(...report.checks.map((c) => c.title.length));
  for (const c of report.checks) {
    process.stdout.write(`${MARK[c.status]}  ${c.title.padEnd(width)}  ${c.detail}\n`);
    if (c.fix) process.stdout.write(`      ${''.padEnd(width)}  fix: ${c.fix}\n`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  process.stdout.write(report.ok ? `\nup can work on this machine${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}\n` : `\nup cannot work here: ${failed} check${failed === 1 ? '' : 's'} failed\n`);
  return report.ok ? 0 : 1;
}
