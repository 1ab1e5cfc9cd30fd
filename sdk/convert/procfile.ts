// Procfile -> the converter's model: every process type a service in one namespace (foreman and
// honcho run them on one host, so they reach each other on localhost), `release` a task the others
// wait for (as Heroku runs it before them), $PORT from 5000 up in steps of 100 (foreman's numbers).
import { ConvertError } from '../errors.ts';
import { dependencyOrder, nameTable, Notes, warrenName } from './common.ts';
import type { ConvertedRecipe, SourceFiles, Unit } from './model.ts';
import { needsShell, shellWords } from './shell-words.ts';

const FIRST_PORT = 5000;
const PORT_STEP = 100;

export function convertProcfile(text: string, file: string, files: SourceFiles, fallbackName: string): ConvertedRecipe {
  const notes = new Notes();
  const entries: { name: string; command: string; line: number }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.trimStart().startsWith('#')) return;
    const match = /^([A-Za-z0-9_-]+):\s*(.*)$/.exec(line);
    if (!match || !match[2]!.trim()) throw new ConvertError('CONVERT_INPUT_INVALID', `${file}:${i + 1}`, `a Procfile line is "name: command", got ${JSON.stringify(line.slice(0, 80))}`);
    if (entries.some((e) => e.name === match[1])) throw new ConvertError('CONVERT_INPUT_INVALID', `${file}:${i + 1}`, `process type '${match[1]}' is declared twice`);
    entries.push({ name: match[1]!, command: match[2]!.trim(), line: i + 1 });
  });
  if (!entries.length) throw new ConvertError('CONVERT_INPUT_INVALID', file, 'the Procfile declares no process type');
  const where = (name: string) => `${file}:${entries.find((e) => e.name === name)!.line}`;
  const names = nameTable(entries.map((e) => e.name), 'process type', where, notes);
  const envName = warrenName(fallbackName) ?? 'procfile';
  const namespace = envName;
  const envFile = dotenvBeside(files);
  const cwd = files.recipePath('.');
  const release = entries.find((e) => e.name === 'release');
  let port = FIRST_PORT;
  const units = entries.map((entry): Unit => {
    const name = names.get(entry.name)!;
    const usesPort = /\$\{?PORT\b/.test(entry.command);
    const unit: Unit = {
      kind: entry === release ? 'task' : 'service',
      name,
      namespace,
      command: commandOf(entry.command, files),
      ...(usesPort && entry !== release ? { port } : {}),
      ...(envFile ? { envFile } : {}),
      ...(cwd !== '.' ? { cwd } : {}),
      ...(release && entry !== release ? { dependsOn: [names.get(release.name)!] } : {}),
    };
    if (entry === release) notes.add(where(entry.name), entry.name, 'release is a task the other processes wait for (it runs on every up)');
    if (usesPort) port += PORT_STEP;
    return unit;
  });
  if (!units.some((u) => u.port !== undefined)) notes.add(file, 'PORT', 'no process uses $PORT: no service has a port (warren checks they started, not that they listen)');
  return { name: envName, source: `${file} (Procfile)`, units: dependencyOrder(units, (u) => where(entries.find((e) => names.get(e.name) === u.name)!.name)), notes: notes.list };
}

/** A Procfile command is a shell line: through `sh -c` when it needs one ($PORT, &&, pipes), else its words. */
export function commandOf(command: string, files: SourceFiles): string[] {
  const words = needsShell(command) ? undefined : shellWords(command);
  if (!words?.length) return ['sh', '-c', command];
  // A program relative to the source's folder, written relative to the recipe's (where warren resolves it).
  return words[0]!.includes('/') && !words[0]!.startsWith('/') ? [files.recipePath(words[0]!), ...words.slice(1)] : words;
}

/** foreman, honcho and process-compose read `.env` beside the file: the recipe's envFile when there is one. */
export function dotenvBeside(files: SourceFiles): string | undefined {
  try {
    files.readRelative('.env', '.env');
    return files.recipePath('.env');
  } catch (error) {
    if (error instanceof ConvertError && /does not exist/.test(error.message)) return undefined;
    throw error;
  }
}
