// `warren convert`: a Compose file, a Procfile or a process-compose.yaml as a recipe. It reads only
// the file it is given and the env files that file names (inside its folder, never through a
// symlink), and writes only the output it is told to, never over a file unless forced.
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConvertError } from '../errors.ts';
import { existsNoFollow, writeAll, writeFileAside } from '../files.ts';
import { packageRoot } from '../package-root.ts';
import { convertCompose } from '../convert/compose.ts';
import { detectFormat, FORMAT_LABELS, type ConvertFormat } from '../convert/detect.ts';
import type { ConvertedRecipe, Note, SourceFiles } from '../convert/model.ts';
import { convertProcessCompose } from '../convert/process-compose.ts';
import { convertProcfile } from '../convert/procfile.ts';

export type { ConvertFormat } from '../convert/detect.ts';
export type { Note as ConvertNote } from '../convert/model.ts';

export interface ConvertOptions {
  /** Write the recipe here (else only return it); paths in it are relative to this file's folder. */
  readonly output?: string;
  /** Replace `output` when it exists. */
  readonly force?: boolean;
}

export interface ConvertResult {
  readonly format: ConvertFormat;
  /** The recipe's TypeScript. */
  readonly text: string;
  /** What is not converted, or converted with a difference (also at the top of the text). */
  readonly notes: readonly Note[];
  /** The file written, with `output`. */
  readonly written?: string;
}

const MAX_INPUT = 4 << 20;
const MAX_ENV_FILE = 1 << 20;
const DEFAULT_POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export async function convertFile(input: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const source = resolve(input);
  const text = readNoFollow(source, input, MAX_INPUT);
  const inputDir = dirname(source);
  const output = options.output === undefined ? undefined : resolve(options.output);
  if (output === source) throw new ConvertError('CONVERT_OUTPUT_EXISTS', options.output!, 'is the file being converted: write the recipe elsewhere');
  if (output && !options.force && existsNoFollow(output)) throw new ConvertError('CONVERT_OUTPUT_EXISTS', options.output!, 'exists already (--force replaces it)');
  const recipeDir = output ? dirname(output) : inputDir;
  const files: SourceFiles = {
    readRelative: (path, where) => readInside(inputDir, path, where, input),
    recipePath: (path) => {
      const rel = relative(recipeDir, resolve(inputDir, path));
      if (rel === '') return '.';
      return rel.startsWith('..') || isAbsolute(rel) ? rel : `./${rel}`;
    },
    assetsDir: join(packageRoot(), 'sdk', 'convert', 'images'),
    postgresBin: postgresBin(),
  };
  const format = detectFormat(basename(source), text, input);
  const fallbackName = basename(inputDir);
  const recipe: ConvertedRecipe =
    format === 'compose' ? convertCompose(text, input, files, fallbackName)
    : format === 'procfile' ? convertProcfile(text, input, files, fallbackName)
    : convertProcessCompose(text, input, files, fallbackName);
  // ts-morph (and the TypeScript compiler in it) is loaded only here: it costs most of a second.
  const { emitRecipe } = await import('../convert/emit.ts');
  const recipeText = emitRecipe(recipe);
  if (output) writeOutput(output, recipeText, options.force === true);
  return { format, text: recipeText, notes: recipe.notes, ...(output ? { written: output } : {}) };
}

export function formatLabel(format: ConvertFormat): string {
  return FORMAT_LABELS[format];
}

/** A regular file's text, never through a symlink (of the file itself). */
function readNoFollow(path: string, display: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new ConvertError('CONVERT_INPUT_UNSAFE', display, 'is a symlink: warren reads no file through a symlink (give the file it points to)');
    if (code === 'ENOENT') throw new ConvertError('CONVERT_INPUT_INVALID', display, 'does not exist');
    throw new ConvertError('CONVERT_INPUT_INVALID', display, `cannot be read (${code ?? (error as Error).message})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new ConvertError('CONVERT_INPUT_INVALID', display, 'is not a regular file');
    if (stats.size > max) throw new ConvertError('CONVERT_INPUT_INVALID', display, `is larger than ${max >> 20} MiB`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** A file the source names (env_file, .env): inside the source's folder, no symlink on the way. */
function readInside(dir: string, path: string, where: string, sourceDisplay: string): string {
  const target = resolve(dir, path);
  const rel = relative(dir, target);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new ConvertError('CONVERT_INPUT_UNSAFE', where, `${path} is outside the folder of ${sourceDisplay}: warren reads only files beside it or below (copy it there)`);
  }
  let at = dir;
  for (const part of rel.split(sep)) {
    at = join(at, part);
    let stats;
    try {
      stats = lstatSync(at);
    } catch {
      throw new ConvertError('CONVERT_INPUT_INVALID', where, `${path} does not exist`);
    }
    if (stats.isSymbolicLink()) throw new ConvertError('CONVERT_INPUT_UNSAFE', where, `${path} goes through a symlink (${relative(dir, at)}): warren reads no file through a symlink`);
  }
  return readNoFollow(target, `${where} (${path})`, MAX_ENV_FILE);
}


/** A new file (O_EXCL, never through a symlink), or with force a replacement renamed over the old one. */
function writeOutput(path: string, text: string, force: boolean): void {
  if (force) {
    if (existsNoFollow(path) && !lstatSync(path).isFile() && !lstatSync(path).isSymbolicLink()) throw new ConvertError('CONVERT_OUTPUT_EXISTS', path, 'is not a file: --force replaces files only');
    writeFileAside(path, text, 0o644);
    return;
  }
  let fd: number;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ConvertError('CONVERT_OUTPUT_EXISTS', path, 'exists already (--force replaces it)');
    throw new ConvertError('CONVERT_INPUT_INVALID', path, `cannot be written (${code ?? (error as Error).message})`);
  }
  try {
    writeAll(fd, Buffer.from(text));
  } finally {
    closeSync(fd);
  }
}

/** Debian's newest PostgreSQL programs on this machine (the recipe names the folder). */
function postgresBin(): string {
  try {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    return versions[0] ? `/usr/lib/postgresql/${versions[0]}/bin` : DEFAULT_POSTGRES_BIN;
  } catch {
    return DEFAULT_POSTGRES_BIN;
  }
}
