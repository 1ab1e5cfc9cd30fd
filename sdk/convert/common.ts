// What the converters share: warren names from the source's names, sizes and restart policies in
// the DSL's words, the order the DSL's types need (dependencies first), and the notes collector.
import { MAX_NAME_LENGTH, nameProblem } from '../../dsl/names.ts';
import type { RestartPolicy } from '../../dsl/supervision.ts';
import { formatBytes, parseBytes } from '../../dsl/units.ts';
import { ConvertError } from '../errors.ts';
import type { Note, Unit } from './model.ts';

/** A warren name for a source's name (`my_db` -> `my-db`), or undefined when nothing is left of it. */
export function warrenName(name: string): string | undefined {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '').slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
  return nameProblem(cleaned) === undefined ? cleaned : undefined;
}

/** Collects notes; `renamed` remembers names that had to change, to say so once. */
export class Notes {
  readonly list: Note[] = [];
  add(where: string, key: string, message: string): void {
    this.list.push({ where, key, message });
  }
  notConverted(where: string, key: string, why: string): void {
    this.add(where, key, `not converted: ${why}`);
  }
}

/** Names of the source's services -> warren names, unique; a name that changes is noted. */
export function nameTable(names: readonly string[], kind: string, where: (name: string) => string, notes: Notes): Map<string, string> {
  const table = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    let base = warrenName(name);
    if (!base) throw new ConvertError('CONVERT_INPUT_INVALID', where(name), `${kind} name ${JSON.stringify(name)} has no letters warren can name it by`);
    let unique = base;
    for (let n = 2; taken.has(unique); n++) unique = `${base.slice(0, MAX_NAME_LENGTH - String(n).length - 1)}-${n}`;
    base = unique;
    taken.add(base);
    table.set(name, base);
    if (base !== name) notes.add(where(name), name, `${kind} '${name}' is named '${base}' (warren names: lower-case letters, digits and dashes); host names and URLs in values that say '${name}' are not rewritten`);
  }
  return table;
}

/** A memory size as the source writes it (`512m`, `1G`, `50MB`, bytes) in the DSL's words, or undefined. */
export function memory(value: unknown): string | undefined {
  const bytes = parseBytes(typeof value === 'string' ? value.replace(/ib$/i, '') : value);
  return bytes === undefined || bytes === 0 ? undefined : formatBytes(bytes);
}

/** CPUs as the source writes them (`0.5`, `'1.5'`), or undefined. */
export function cpus(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** Compose's and process-compose's restart words in the DSL's. */
export function restartPolicy(value: string): { restart: RestartPolicy; maxRestarts?: number } | undefined {
  const [word, count] = value.split(':');
  if (word === 'no' || word === 'none' || word === 'never') return { restart: 'no' };
  if (word === 'always' || word === 'any' || word === 'unless-stopped') return { restart: 'always' };
  if (word === 'on-failure' || word === 'on_failure') {
    const max = count === undefined ? undefined : Number(count);
    return { restart: 'on-failure', ...(max !== undefined && Number.isInteger(max) && max >= 0 ? { maxRestarts: max } : {}) };
  }
  return undefined;
}

/**
 * Units ordered so that each comes after what it depends on (the DSL's types need that) and the units
 * of one namespace stay together (a namespace is declared once): namespaces first, then their units.
 */
export function dependencyOrder(units: readonly Unit[], where: (unit: Unit) => string): Unit[] {
  const byName = new Map(units.map((u) => [u.name, u]));
  const groups = [...new Set(units.map((u) => u.namespace))];
  const groupDeps = (ns: string) => [...new Set(units.filter((u) => u.namespace === ns).flatMap((u) => (u.dependsOn ?? []).map((d) => byName.get(d)?.namespace).filter((g): g is string => g !== undefined && g !== ns)))];
  const orderedGroups = topological(groups, groupDeps, (ns) => where(units.find((u) => u.namespace === ns)!));
  return orderedGroups.flatMap((ns) => {
    const members = units.filter((u) => u.namespace === ns);
    const names = topological(members.map((u) => u.name), (name) => (byName.get(name)!.dependsOn ?? []).filter((d) => byName.get(d)?.namespace === ns), (name) => where(byName.get(name)!));
    return names.map((name) => byName.get(name)!);
  });
}

function topological(items: readonly string[], deps: (item: string) => readonly string[], where: (item: string) => string): string[] {
  const done = new Set<string>();
  const visiting: string[] = [];
  const out: string[] = [];
  const visit = (item: string) => {
    if (done.has(item)) return;
    if (visiting.includes(item)) {
      const cycle = [...visiting.slice(visiting.indexOf(item)), item];
      throw new ConvertError('CONVERT_INPUT_INVALID', where(item), `dependency cycle: ${cycle.join(' -> ')}`);
    }
    visiting.push(item);
    for (const dep of deps(item)) if (items.includes(dep)) visit(dep);
    visiting.pop();
    done.add(item);
    out.push(item);
  };
  for (const item of items) visit(item);
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Environment entries as a map (`{ A: 1 }` or `['A=1', 'B']`): names without a value are the caller's (passEnv). */
export function environment(value: unknown): { env: Record<string, string>; pass: string[]; bad: string[] } {
  const env: Record<string, string> = {};
  const pass: string[] = [];
  const bad: string[] = [];
  const set = (key: string, v: unknown) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) bad.push(key);
    else if (v === null || v === undefined) pass.push(key);
    else env[key] = typeof v === 'string' ? v : String(v);
  };
  if (Array.isArray(value)) {
    for (const entry of value) {
      const text = String(entry);
      const at = text.indexOf('=');
      if (at === -1) set(text, undefined);
      else set(text.slice(0, at), text.slice(at + 1));
    }
  } else if (isRecord(value)) for (const [k, v] of Object.entries(value)) set(k, v);
  return { env, pass, bad };
}

/** `${VAR:-default}` and friends: the value with `$$` unescaped, and the names it interpolates. */
export function interpolation(value: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced?: string, op?: string, word?: string, bare?: string) => {
    if (all === '$$') return '$';
    const name = braced ?? bare!;
    if (op === ':-' || op === '-') {
      names.push(`${name} (its default '${word ?? ''}' is used)`);
      return word ?? '';
    }
    names.push(name);
    return all;
  });
  return { text, names };
}
