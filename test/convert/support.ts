// What the converter's tests share: an output folder inside the package (so `import 'warren'`
// resolves, as in a project), the project's own tsc over what was written, and the recipe's problems.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { convertFile, loadRecipe, preflight, type ConvertResult, type EnvSpec, type Issue } from '../../sdk/index.ts';
import { TEST_TAG } from '../helpers/env.ts';
import { ROOT } from '../fixtures/support.ts';

export const CONVERT_FIXTURES = join(ROOT, 'test', 'convert', 'fixtures');

/** A scratch folder under test/convert, named after this process; `remove()` in a finally. */
export function outDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(ROOT, 'test', 'convert', `.out-${TEST_TAG}-`));
  // The recipe's folder is its services' working directory: postgres and redis must be able to enter it.
  chmodSync(path, 0o755);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Converts a fixture (relative to the fixtures folder) to `<out>/<name>.env.ts`. */
export async function convertFixture(fixture: string, out: string, name: string): Promise<ConvertResult & { file: string }> {
  const file = join(out, `${name}.env.ts`);
  const result = await convertFile(join(CONVERT_FIXTURES, fixture), { output: file });
  return { ...result, file };
}

/** The project's TypeScript (5.9, strict, as `npm run typecheck`) over these files: its exit code and what it printed. */
export function typecheck(out: string, files: readonly string[]): { code: number | null; output: string } {
  const config = join(out, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({ extends: relative(out, join(ROOT, 'tsconfig.json')), include: files.map((f) => relative(out, f)) }));
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { encoding: 'utf8', cwd: ROOT });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The recipe's spec and every problem `warren validate` would print (the SDK's own check). */
export async function problems(file: string): Promise<{ spec: EnvSpec; issues: Issue[] }> {
  const spec = await loadRecipe(file);
  return { spec, issues: preflight(spec, 'default') };
}

export function messages(issues: readonly Issue[]): string[] {
  return issues.map((i) => i.message);
}
