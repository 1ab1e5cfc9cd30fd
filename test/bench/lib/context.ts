// What every measurement gets: the configuration, where to put files, how to name things.
import type { Config } from './config.ts';

export interface Ctx {
  readonly cfg: Config;
  /** In every name the bench makes (the pid of the process npm started, base 36). */
  readonly tag: string;
  /** warren's state dir for this run (mkdtemp). */
  readonly stateDir: string;
  /** Scripts and scratch files for this run (mkdtemp). */
  readonly workDir: string;
  readonly root: string;
  log(line: string): void;
}

let counter = 0;
/** Every warren instance name handed out (the sweep outside the sandbox derives host links from them). */
export const issuedInstances: string[] = [];

/** A warren instance name unique to this run: starts with a letter, carries the tag. */
export function instanceName(ctx: Ctx, label: string): string {
  const name = `b${ctx.tag}-${label}${(counter++).toString(36)}`;
  issuedInstances.push(name);
  return name;
}

export function registerInstance(name: string): void {
  issuedInstances.push(name);
}

/** Prefix of every baseline namespace and link: `bb` + tag (at most 7 bytes, leaving room under IFNAMSIZ). */
export function baselinePrefix(ctx: Ctx): string {
  return `bb${ctx.tag}`;
}
