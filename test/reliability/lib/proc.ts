// Child processes from argv arrays (never shell strings), with their output collected.
export { runArgv, spawnArgv, type SpawnOptions, type Spawned } from '../../helpers/process.ts';

/** `node --import tsx FILE ARGS...` */
export function tsxArgv(file: string, ...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', file, ...args];
}

/** `node sdk/cli/bin.cjs ARGS...` (the prebuilt CLI). */
export function cliArgv(...args: string[]): string[] {
  return [process.execPath, 'sdk/cli/bin.cjs', ...args];
}
