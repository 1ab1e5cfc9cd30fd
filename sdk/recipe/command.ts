// Service commands: from what the recipe wrote to an argv, and the checks that it can run.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, extname, isAbsolute, join, resolve } from 'node:path';
import type { Issue, ServiceSpec } from '../../dsl/spec.ts';
import { CompileError, compileCached } from './compile.ts';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);
/** tsx's loader, by absolute URL so that services find it from any directory. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/**
 * The argv that runs a service: `.ts` through node (precompiled by esbuild when `compiled` has it,
 * else with tsx's loader), `.js` through node, anything else as is.
 */
export function resolveCommand(service: Pick<ServiceSpec, 'command' | 'baseDir'>, compiled?: ReadonlyMap<string, string>): string[] {
  const [first = '', ...rest] = typeof service.command === 'string' ? [service.command] : service.command;
  const program = looksLikePath(first) ? resolve(service.baseDir, first) : first;
  const extension = extname(program);
  const output = compiled?.get(program);
  if (output) return [process.execPath, '--enable-source-maps', output, ...rest];
  if (TS_EXTENSIONS.has(extension)) return [process.execPath, '--import', tsxLoader(), program, ...rest];
  if (JS_EXTENSIONS.has(extension)) return [process.execPath, program, ...rest];
  return [program, ...rest];
}

/** Problems that need the file system: missing, directory or non-executable commands, missing cwd. */
export function commandIssues(services: readonly ServiceSpec[]): Issue[] {
  const issues: Issue[] = [];
  services.forEach((service, i) => {
    const add = (path: string, message: string) =>
      issues.push({ code: 'missing-command', path: `services[${i}].${path}`, message: `service '${service.name}': ${message}`, ...(service.loc ? { loc: service.loc } : {}) });
    const command = typeof service.command === 'string' ? [service.command] : service.command;
    if (!Array.isArray(command) || typeof command[0] !== 'string' || command[0] === '' || command.some((c) => typeof c !== 'string' || c.includes('\0'))) return;
    const first = command[0];
    const cwd = typeof service.cwd === 'string' && service.cwd !== '' ? resolve(service.baseDir, service.cwd) : service.baseDir;
    // The service's own PATH when it sets one: that is what execvp searches after the launcher's chdir.
    const servicePath = typeof service.env?.PATH === 'string' ? service.env.PATH : undefined;
    const file = looksLikePath(first) ? resolve(service.baseDir, first) : findOnPath(first, servicePath ?? process.env.PATH ?? '', cwd);
    if (!file) add('command', servicePath === undefined ? `'${first}' was not found on PATH` : `'${first}' was not found on the service's PATH (${servicePath})`);
    else {
      // A .ts or .js file is read by node, anything else executed (as resolveCommand runs it).
      const problem = fileProblem(file, !runsThroughNode(file));
      if (problem) add('command', `${file} ${problem}`);
    }
    if (typeof service.cwd === 'string' && service.cwd !== '' && !service.cwd.includes('\0')) {
      const cwd = resolve(service.baseDir, service.cwd);
      if (!isDirectory(cwd)) add('cwd', `cwd ${cwd} is not a directory`);
    }
  });
  return issues;
}

function runsThroughNode(program: string): boolean {
  return TS_EXTENSIONS.has(extname(program)) || JS_EXTENSIONS.has(extname(program));
}

function looksLikePath(command: string): boolean {
  return command.includes('/') || isAbsolute(command) || TS_EXTENSIONS.has(extname(command)) || JS_EXTENSIONS.has(extname(command));
}

/** As execvp: each entry in turn, an empty one meaning the current folder (here: the service's cwd). */
function findOnPath(name: string, path: string, cwd: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    const candidate = join(resolve(cwd, dir || '.'), name);
    if (!fileProblem(candidate, true)) return candidate;
  }
  return undefined;
}

function fileProblem(file: string, mustExecute: boolean): string | undefined {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return 'does not exist';
  }
  if (stats.isDirectory()) return 'is a directory, not a program';
  if (!stats.isFile()) return 'is not a regular file';
  if (!mustExecute) return undefined;
  try {
    accessSync(file, constants.X_OK);
    return undefined;
  } catch {
    return 'is not executable (chmod +x it, or run it through an interpreter)';
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** TypeScript service files compiled once by esbuild (cached): node starts them without a loader. */
export async function compileServices(services: readonly ServiceSpec[]): Promise<{ compiled: Map<string, string>; issues: Issue[] }> {
  const compiled = new Map<string, string>();
  const issues: Issue[] = [];
  const programs = new Map<string, ServiceSpec>();
  for (const service of services) {
    const first = typeof service.command === 'string' ? service.command : service.command[0];
    if (typeof first !== 'string' || !looksLikePath(first)) continue;
    const program = resolve(service.baseDir, first);
    if (TS_EXTENSIONS.has(extname(program))) programs.set(program, service);
  }
  await Promise.all(
    [...programs].map(async ([program, service]) => {
      try {
        compiled.set(program, await compileCached(program));
      } catch (error) {
        if (!(error instanceof CompileError)) throw error;
        for (const p of error.problems) {
          issues.push({ code: 'invalid-command', path: 'command', message: `service '${service.name}': ${p.file}:${p.line}:${p.column} ${p.text}`, ...(service.loc ? { loc: service.loc } : {}) });
        }
      }
    }),
  );
  return { compiled, issues };
}
