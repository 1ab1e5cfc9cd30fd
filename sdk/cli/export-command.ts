// `warren export k8s RECIPE …` and `warren export k8s --check FILE|DIR…`: renders what the
// operation returns. The exporter (yaml, the schemas) is loaded only when this command runs.
import { UsageError } from '../errors.ts';
import { assertInstanceName } from '../ops/instance-name.ts';
import { loadRecipe } from '../recipe/load.ts';
import type { CliArgs } from './args.ts';

const RECIPE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

export async function exportCommand(args: CliArgs): Promise<number> {
  const [target, ...paths] = args.positionals;
  if (target !== 'k8s') throw new UsageError(`export knows one target, k8s: warren export k8s RECIPE (got ${target === undefined ? 'nothing' : `'${target}'`})`);
  if (!paths.length) throw new UsageError('export k8s needs a recipe file, or --check with YAML files (warren export --help)');
  const ops = await import('../ops/export-k8s.ts');

  if (!RECIPE_FILE.test(paths[0]!)) {
    if (!args.check) throw new UsageError(`${paths[0]} is not a recipe (.ts or .js); to check manifests, add --check`);
    const { files, problems } = await ops.checkManifestFiles(paths);
    if (problems.length) throw ops.invalidManifests(problems, '');
    process.stderr.write(`warren: ${files.length} file${files.length === 1 ? '' : 's'} pass the Kubernetes schemas (checked offline)\n`);
    return 0;
  }
  if (paths.length > 1) throw new UsageError(`export k8s takes one recipe, got ${paths.length} files`);
  assertInstanceName(args.instance);
  const spec = await loadRecipe(paths[0]!);
  const toStdout = args.output === undefined || args.output === '-';
  const result = await ops.exportInstanceToK8s(spec, {
    instance: args.instance,
    check: args.check,
    ...(args.images === undefined ? {} : { imagesFile: args.images }),
    ...(args.waitImage === undefined ? {} : { waitImage: args.waitImage }),
    ...(toStdout ? {} : { outDir: args.output! }),
  });
  if (result.notes.length) process.stderr.write(`warren: not exported (also at the top of the output):\n${result.notes.map((n) => `  - ${n}\n`).join('')}`);
  if (toStdout) process.stdout.write(result.text);
  else process.stderr.write(`warren: wrote ${result.written.length} files for namespace ${result.namespace} to ${args.output}\n`);
  if (result.checked !== undefined) process.stderr.write(`warren: ${result.checked} manifests pass the Kubernetes schemas (checked offline)\n`);
  return 0;
}
