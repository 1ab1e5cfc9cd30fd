// `--watch`: a service's code rebuilt incrementally by esbuild (its inputs come from the metafile),
// and the files (or globs) to watch for changes.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { cacheDirFor } from '../cache-dir.ts';
import { CompileError } from '../errors.ts';
import { buildOptions, compileErrorOf, storeBuild } from './compile.ts';

export interface IncrementalBuild {
  /** Every local file the last successful build read. */
  readonly inputs: readonly string[];
  /** Builds again (esbuild keeps what did not change); the output is written to the compile cache. Throws a CompileError. */
  rebuild(): Promise<{ output: string; inputs: readonly string[] }>;
  dispose(): Promise<void>;
}

export async function incrementalBuild(entry: string): Promise<IncrementalBuild> {
  const path = resolve(entry);
  const cacheDir = cacheDirFor(path);
  const { context } = await import('esbuild');
  const ctx = await context(buildOptions(path, cacheDir));
  let inputs: readonly string[] = [path];
  const self: IncrementalBuild = {
    get inputs() {
      return inputs;
    },
    async rebuild() {
      let result;
      try {
        result = await ctx.rebuild();
      } catch (error) {
        throw error instanceof CompileError ? error : compileErrorOf(path, error);
      }
      const stored = storeBuild(path, cacheDir, result);
      inputs = stored.inputs;
      return stored;
    },
    dispose: () => ctx.dispose(),
  };
  await self.rebuild().catch(() => undefined);
  return self;
}

/** A compile error as a user reads it: `file:line:column: text`, one line per problem. */
export function describeCompileError(error: CompileError, from = process.cwd()): string {
  return error.problems.map((p) => `${relative(from, p.file) || p.file}:${p.line}:${p.column}: ${p.text}`).join('\n');
}

export interface FileWatch {
  /** Watches exactly these files from now on. */
  update(files: readonly string[]): void;
  close(): void;
}

/** Calls `onChange(file)` when one of `files` is written, replaced or removed (folders are watched: editors rename). */
export function watchFiles(files: readonly string[], onChange: (file: string) => void): FileWatch {
  const watchers = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  const update = (list: readonly string[]) => {
    const byDir = new Map<string, Set<string>>();
    for (const file of list) byDir.set(dirname(file), (byDir.get(dirname(file)) ?? new Set()).add(basename(file)));
    for (const [dir, entry] of watchers) {
      if (byDir.has(dir)) continue;
      entry.watcher.close();
      watchers.delete(dir);
    }
    for (const [dir, names] of byDir) {
      const existing = watchers.get(dir);
      if (existing) {
        existing.names = names;
        continue;
      }
      try {
        const entry = { names, watcher: undefined as unknown as FSWatcher };
        entry.watcher = watch(dir, { persistent: false }, (_, name) => {
          if (name && entry.names.has(name.toString())) onChange(join(dir, name.toString()));
        });
        entry.watcher.on('error', () => undefined);
        watchers.set(dir, entry);
      } catch {
        // a folder that is gone has nothing to watch
      }
    }
  };
  update(files);
  return { update, close: () => [...watchers.values()].forEach((w) => w.watcher.close()) };
}

/** Calls `onChange(file)` for a file under `baseDir` that matches one of `globs` ('src/**\/*.py', '*.conf'). */
export function watchGlobs(baseDir: string, globs: readonly string[], onChange: (file: string) => void): FileWatch {
  const watchers: FSWatcher[] = [];
  for (const glob of globs) {
    const absolute = isAbsolute(glob) ? glob : join(baseDir, glob);
    const parts = absolute.split(sep);
    const firstWild = parts.findIndex((p) => /[*?[]/.test(p));
    const root = firstWild < 0 ? dirname(absolute) : parts.slice(0, firstWild).join(sep) || sep;
    const pattern = globToRegExp(absolute);
    try {
      const watcher = watch(root, { persistent: false, recursive: true }, (_, name) => {
        if (!name) return;
        const file = join(root, name.toString());
        if (pattern.test(file)) onChange(file);
      });
      watcher.on('error', () => undefined);
      watchers.push(watcher);
    } catch {
      // nothing there yet
    }
  }
  return { update: () => undefined, close: () => watchers.forEach((w) => w.close()) };
}

/** `**` any folders, `*` and `?` within a name. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
