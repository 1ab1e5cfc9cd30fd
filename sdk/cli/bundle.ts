// `warren bundle RECIPE -o FILE.mjs`: writes the one-file bundle that sdk/ops/bundle.ts makes.
import { bundleRecipe } from '../ops/bundle.ts';
import { UsageError } from '../errors.ts';
import type { CliArgs } from './args.ts';

export async function bundleCommand(recipe: string, args: CliArgs): Promise<number> {
  if (!args.output) throw new UsageError('bundle needs an output file: warren bundle <recipe> -o <file.mjs>');
  if (!args.output.endsWith('.mjs')) throw new UsageError(`the bundle is an ES module: name it *.mjs (not ${args.output})`);
  const result = await bundleRecipe(recipe, { output: args.output });
  process.stderr.write(`warren: wrote ${args.output} (${Math.round(result.bytes / 1024)} KiB: the recipe, ${result.modules} module(s), ${result.services.length} service(s)${result.services.length ? `: ${result.services.join(', ')}` : ''})\n`);
  if (result.programs.length) process.stderr.write(`warren: it runs these programs by the recipe's paths: ${result.programs.join(', ')} (\`warren validate ${args.output}\` lists those missing on a machine)\n`);
  return 0;
}
