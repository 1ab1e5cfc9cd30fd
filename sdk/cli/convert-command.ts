// `warren convert FILE [-o FILE] [--force]`: renders what the conversion returns. The converter (yaml,
// ts-morph with its compiler) is loaded only when this command runs.
import { UsageError } from '../errors.ts';
import type { CliArgs } from './args.ts';

export async function convertCommand(args: CliArgs): Promise<number> {
  const [input, ...extra] = args.positionals;
  if (!input) throw new UsageError('convert needs a file: docker-compose.yml, compose.yaml, a Procfile or process-compose.yaml (warren convert --help)');
  if (extra.length) throw new UsageError(`convert takes one file, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  const toStdout = args.output === undefined || args.output === '-';
  const { convertFile, formatLabel } = await import('../ops/convert.ts');
  const result = await convertFile(input, { ...(toStdout ? {} : { output: args.output! }), force: args.force });
  const notConverted = result.notes.filter((n) => n.message.startsWith('not converted: '));
  const differences = result.notes.filter((n) => !n.message.startsWith('not converted: '));
  const line = (n: { where: string; key: string; message: string }, text: string) => `  ${n.where}  ${n.key}: ${text}\n`;
  if (notConverted.length) process.stderr.write(`warren: not converted (also at the top of the recipe):\n${notConverted.map((n) => line(n, n.message.slice('not converted: '.length))).join('')}`);
  if (differences.length) process.stderr.write(`warren: converted, with a difference:\n${differences.map((n) => line(n, n.message)).join('')}`);
  if (toStdout) process.stdout.write(result.text);
  else process.stderr.write(`warren: wrote ${args.output} from ${input} (${formatLabel(result.format)}); next: warren validate ${args.output}\n`);
  return 0;
}
