// The converter's model as a recipe, written with ts-morph: imports from 'warren', the notes at the
// top, one `.namespace().veth()` per namespace and a `.service()` or `.task()` per unit, formatted.
import { IndentationText, NewLineKind, Project, QuoteKind, VariableDeclarationKind, type CodeBlockWriter } from 'ts-morph';
import type { ConvertedRecipe, Mount, Readiness, Unit } from './model.ts';

/** A piece of code, written as is (a DSL call), not as a value. */
class Code {
  constructor(readonly text: string) {}
}

const MAX_LINE = 110;

export function emitRecipe(recipe: ConvertedRecipe): string {
  const project = new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Single, newLineKind: NewLineKind.LineFeed, useTrailingCommas: true },
  });
  const file = project.createSourceFile('recipe.env.ts', '');
  const used = new Set<string>(['env']);
  const scripts = new Map<string, string>();
  const chain = recipe.units.map((unit, i) => unitCall(hoistScripts(unit, scripts), recipe.units[i - 1], used));

  file.addImportDeclaration({ moduleSpecifier: 'warren', namedImports: ['bind', 'env', 'exec', 'http', 'log', 'started', 'tcp', 'tmpfs', 'volume'].filter((n) => used.has(n)) });
  for (const [name, value] of Object.entries(recipe.constants ?? {})) {
    file.addVariableStatement({ declarationKind: VariableDeclarationKind.Const, declarations: [{ name, initializer: literal(value, 0) }] });
  }
  for (const [name, script] of scripts) {
    file.addVariableStatement({ declarationKind: VariableDeclarationKind.Const, declarations: [{ name, initializer: stringLiteral(script) }] });
  }
  file.addExportAssignment({
    isExportEquals: false,
    expression: (writer: CodeBlockWriter) => {
      writer.write(`env(${literal(recipe.name, 0)})`);
      for (const part of chain) for (const line of part) writer.newLine().write(`  ${line}`);
      writer.newLine().write('  .main(import.meta)');
    },
  });
  file.insertStatements(0, headerLines(recipe).map((line) => `//${line ? ` ${line}` : ''}`).join('\n'));
  file.formatText({ indentSize: 2, convertTabsToSpaces: true, ensureNewLineAtEndOfFile: true });
  return file.getFullText();
}

function headerLines(recipe: ConvertedRecipe): string[] {
  const lines = [`Converted from ${comment(recipe.source)} by \`warren convert\`: read it, then \`warren validate\` it.`];
  const notConverted = recipe.notes.filter((n) => n.message.startsWith('not converted: '));
  const differences = recipe.notes.filter((n) => !n.message.startsWith('not converted: '));
  if (notConverted.length) {
    lines.push('', `Not converted (${notConverted.length}):`);
    for (const n of notConverted) lines.push(`  ${comment(n.where)}  ${comment(n.key)}: ${comment(n.message.slice('not converted: '.length))}`);
  }
  if (differences.length) {
    lines.push('', 'Converted, with a difference:');
    for (const n of differences) lines.push(`  ${comment(n.where)}  ${comment(n.key)}: ${comment(n.message)}`);
  }
  if (!notConverted.length && !differences.length) lines.push('Every key was converted.');
  return lines;
}

/** Text from the source inside a line comment: nothing in it may end the comment (a newline) and start code. */
function comment(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
}

/** Scripts of several lines become constants above the chain (`const DB_INITDB = \`...\``): read as written, and never re-indented. */
function hoistScripts(unit: Unit, scripts: Map<string, string>): Unit {
  if (!unit.command.some((arg) => arg.includes('\n'))) return unit;
  const command = unit.command.map((arg, i) => {
    if (!arg.includes('\n')) return arg;
    let name = unit.name.toUpperCase().replace(/-/g, '_') + (i > 2 ? `_${i}` : '');
    while (scripts.has(name) && scripts.get(name) !== arg) name += '_';
    scripts.set(name, arg);
    return new Code(name);
  });
  return { ...unit, command: command as unknown as string[] };
}

function unitCall(unit: Unit, previous: Unit | undefined, used: Set<string>): string[] {
  const lines: string[] = [];
  if (unit.namespace !== previous?.namespace) lines.push(`.namespace(${literal(unit.namespace, 0)}).veth()`);
  for (const c of unit.comments ?? []) lines.push(`  // ${comment(c)}`);
  const options = optionsOf(unit, used);
  const hasOptions = Object.keys(options).length > 0;
  const call = (spread: boolean) => {
    const opts = hasOptions ? [literal(options, 1, spread)] : [];
    const args = unit.kind === 'task' ? [literal(unit.name, 0), literal(unit.command, 0), ...opts] : [literal(unit.command, 0), ...(unit.port !== undefined ? [String(unit.port)] : []), ...opts];
    return `  .${unit.kind}(${args.join(', ')})`;
  };
  const flat = call(false);
  lines.push(flat.length <= MAX_LINE || !hasOptions ? flat : call(true));
  return lines;
}

function optionsOf(unit: Unit, used: Set<string>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (unit.name !== unit.namespace && unit.kind === 'service') o.name = unit.name;
  if (unit.user !== undefined) o.user = unit.user;
  if (unit.dependsOn?.length) o.dependsOn = unit.dependsOn;
  const ready = unit.kind === 'service' ? readiness(unit.ready, unit.port !== undefined, used) : undefined;
  if (ready) o.ready = ready;
  if (unit.publish !== undefined) o.publish = unit.publish;
  if (unit.env && Object.keys(unit.env).length) o.env = unit.env;
  if (unit.envFile !== undefined) o.envFile = unit.envFile;
  if (unit.passEnv?.length) o.passEnv = unit.passEnv;
  if (unit.cwd !== undefined) o.cwd = unit.cwd;
  if (unit.volumes && Object.keys(unit.volumes).length) o.volumes = mounts(unit.volumes, used);
  if (unit.readonly) o.readonly = true;
  if (unit.capabilities?.length) o.capabilities = unit.capabilities;
  if (unit.limits) o.limits = unit.limits;
  if (unit.restart !== undefined) o.restart = unit.restart;
  if (unit.maxRestarts !== undefined) o.maxRestarts = unit.maxRestarts;
  if (unit.backoff) o.backoff = unit.backoff;
  if (unit.once) o.once = true;
  if (unit.image !== undefined) o.image = unit.image;
  return o;
}

/** A probe, or undefined where the DSL's default (tcp with a port, started without) says the same. */
function readiness(ready: Readiness | undefined, hasPort: boolean, used: Set<string>): Code | undefined {
  if (!ready || (ready.kind === 'tcp' && hasPort) || (ready.kind === 'started' && !hasPort)) return undefined;
  used.add(ready.kind);
  switch (ready.kind) {
    case 'exec':
      return new Code(`exec(${literal(ready.argv, 0)})`);
    case 'http':
      return new Code(`http(${literal(ready.path, 0)})`);
    case 'log':
      return new Code(`log(${literal(ready.pattern, 0)})`);
    default:
      return new Code(`${ready.kind}()`);
  }
}

/** Mounts by target, parents before what is mounted inside them. */
function mounts(volumes: Readonly<Record<string, Mount>>, used: Set<string>): Record<string, Code> {
  const sorted = Object.keys(volumes).sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
  return Object.fromEntries(sorted.map((target) => {
    const m = volumes[target]!;
    used.add(m.kind);
    if (m.kind === 'volume') return [target, new Code(`volume(${literal(m.name, 0)})`)];
    if (m.kind === 'bind') return [target, new Code(`bind(${literal(m.path, 0)}${m.readonly ? ', { readonly: true }' : ''})`)];
    return [target, new Code(`tmpfs(${m.size ? `{ size: ${literal(m.size, 0)} }` : ''})`)];
  }));
}

/** A value as TypeScript: on one line when it fits, else one entry a line, nested alike. */
function literal(value: unknown, depth: number, spread = false): string {
  if (value instanceof Code) return value.text;
  if (typeof value === 'string') return stringLiteral(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const pad = '  '.repeat(depth + 1);
  const close = '  '.repeat(depth);
  if (Array.isArray(value)) {
    const items = value.map((v) => literal(v, depth + 1));
    const flat = `[${items.join(', ')}]`;
    return flat.length <= MAX_LINE && !flat.includes('\n') ? flat : `[\n${items.map((i) => `${pad}${i},`).join('\n')}\n${close}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : stringLiteral(k)}: ${literal(v, depth + 1)}`);
  const flat = `{ ${entries.join(', ')} }`;
  return !spread && flat.length <= MAX_LINE && !flat.includes('\n') ? flat : `{\n${entries.map((e) => `${pad}${e},`).join('\n')}\n${close}}`;
}

/** 'text', or a template literal for text with lines or `{{CONSTANT}}` references (`${PG}/initdb`). */
function stringLiteral(text: string): string {
  if (/\{\{[A-Z_]+\}\}/.test(text) || text.includes('\n')) {
    const escaped = text.replace(/[\\`]/g, (c) => `\\${c}`).replace(/\$\{/g, '\\${').replace(/[\u0000-\u0009\u000b-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return `\`${escaped.replace(/\{\{([A-Z_]+)\}\}/g, '${$1}')}\``;
  }
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}
