// `up --watch`: a service restarts in place when its files change. A .ts/.js service's files are the
// inputs esbuild reports (rebuilt incrementally: a failed rebuild keeps the old process running and
// reports the compile error with its file and line); other commands watch the globs they name.
import { extname, isAbsolute, resolve } from 'node:path';
import type { EnvSpec, ServiceSpec } from '../../dsl/spec.ts';
import { CompileError, messageOf } from '../errors.ts';
import { describeCompileError, incrementalBuild, watchFiles, watchGlobs, type FileWatch, type IncrementalBuild } from '../recipe/watch-build.ts';
import type { Emit } from './events.ts';
import type { Supervisor } from './supervisor.ts';

/** A burst of saves (an editor writes, renames, touches) is one restart. */
export const DEBOUNCE_MS = 60;
const BUILT = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);
const COMPILED = new Set(['.ts', '.mts', '.cts', '.tsx']);

export interface Watching {
  close(): Promise<void>;
}

export async function watchServices(spec: EnvSpec, supervisor: Supervisor, emit: Emit): Promise<Watching> {
  const closers: Array<() => Promise<void> | void> = [];
  for (const service of spec.services) {
    if (service.watch === false) continue;
    const watched = await watchOne(service, supervisor, emit);
    if (watched) closers.push(watched);
  }
  return { close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

function programOf(service: ServiceSpec): string | undefined {
  const first = typeof service.command === 'string' ? service.command : service.command[0];
  if (typeof first !== 'string' || !(first.startsWith('.') || first.startsWith('/'))) return undefined;
  const program = resolve(service.baseDir, first);
  return BUILT.has(extname(program)) ? program : undefined;
}

async function watchOne(service: ServiceSpec, supervisor: Supervisor, emit: Emit): Promise<(() => Promise<void>) | undefined> {
  const program = programOf(service);
  const globs = Array.isArray(service.watch) ? (service.watch as string[]) : [];
  if (!program && globs.length === 0) return undefined;
  const build: IncrementalBuild | undefined = program ? await incrementalBuild(program) : undefined;
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const onChange = (file: string) => {
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => void run(), DEBOUNCE_MS);
  };
  const watches: FileWatch[] = [];
  if (build) watches.push(watchFiles(build.inputs, onChange));
  if (globs.length) watches.push(watchGlobs(service.baseDir, globs, onChange));

  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    const files = [...changed];
    changed.clear();
    running = rebuildAndRestart(service, program, build, files, supervisor, emit, watches[0]);
    await running;
    running = undefined;
    if (again) {
      again = false;
      await run();
    }
  };
  return async () => {
    clearTimeout(timer);
    for (const w of watches) w.close();
    await running?.catch(() => undefined);
    await build?.dispose();
  };
}

async function rebuildAndRestart(service: ServiceSpec, program: string | undefined, build: IncrementalBuild | undefined, files: string[], supervisor: Supervisor, emit: Emit, inputsWatch: FileWatch | undefined): Promise<void> {
  if (supervisor.stopped) return;
  const started = Date.now();
  let argv: readonly string[] | undefined;
  if (build && program) {
    const before = supervisor.argsOf(service.name)?.argv ?? [];
    try {
      const { output, inputs } = await build.rebuild();
      inputsWatch?.update(inputs);
      // A compiled service runs its cache output: the new output takes the old one's place.
      const at = before.findIndex((part) => isAbsolute(part) && part.endsWith('.mjs'));
      if (COMPILED.has(extname(program)) && at >= 0) argv = before.map((part, i) => (i === at ? output : part));
    } catch (error) {
      emit({ kind: 'service.rebuild-failed', service: service.name, error: error instanceof CompileError ? describeCompileError(error) : messageOf(error) });
      return;
    }
  }
  emit({ kind: 'service.rebuilt', service: service.name, ms: Date.now() - started, files });
  try {
    await supervisor.restart(service.name, 'watch', argv);
  } catch (error) {
    if (!supervisor.stopped) emit({ kind: 'warning', message: `watch: '${service.name}' did not come back after its files changed: ${messageOf(error)}` });
  }
}
