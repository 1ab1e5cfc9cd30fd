// Compose's `volumes` and `tmpfs` of a service as mounts by target: named and anonymous volumes,
// bind mounts relative to the recipe, tmpfs with its size.
import { ConvertError } from '../errors.ts';
import { isRecord, memory, warrenName } from './common.ts';
import type { ComposeContext, Where } from './compose-context.ts';
import type { Mount } from './model.ts';

export function mountsOf(def: Record<string, unknown>, service: string, at: Where, key: Where, ctx: ComposeContext): Record<string, Mount> {
  const mounts: Record<string, Mount> = {};
  const list = Array.isArray(def.volumes) ? def.volumes : def.volumes === undefined ? [] : [def.volumes];
  list.forEach((entry, i) => {
    const where = at('volumes', i);
    const k = key('volumes', i);
    let type: string;
    let source: string | undefined;
    let target: string | undefined;
    let readonly = false;
    let size: string | undefined;
    if (typeof entry === 'string') {
      const parts = entry.split(':');
      const mode = parts.length === 3 || (parts.length === 2 && /^(ro|rw|z|Z)(,.*)?$/.test(parts[1]!) && !parts[1]!.startsWith('/')) ? parts.pop()! : '';
      if (parts.length === 1) [target] = parts;
      else [source, target] = parts;
      readonly = mode.split(',').includes('ro');
      type = source === undefined ? 'volume' : /^[./~]/.test(source) ? 'bind' : 'volume';
    } else if (isRecord(entry)) {
      type = String(entry.type ?? 'volume');
      source = typeof entry.source === 'string' ? entry.source : undefined;
      target = typeof entry.target === 'string' ? entry.target : undefined;
      readonly = entry.read_only === true;
      if (isRecord(entry.tmpfs) && entry.tmpfs.size !== undefined) size = memory(entry.tmpfs.size);
      for (const extra of Object.keys(entry).filter((x) => !['type', 'source', 'target', 'read_only', 'tmpfs'].includes(x))) ctx.notes.notConverted(where, `${k}.${extra}`, `mount option '${extra}'`);
    } else throw new ConvertError('CONVERT_INPUT_INVALID', where, 'a volume must be "source:target[:mode]" or a map');
    if (!target || !target.startsWith('/')) throw new ConvertError('CONVERT_INPUT_INVALID', where, `mount target ${JSON.stringify(target ?? '')} is not an absolute path`);
    if (type === 'bind') {
      if (source!.startsWith('~')) ctx.notes.notConverted(where, k, `bind source ${source} ('~' is the home of whoever runs it: write the path)`);
      mounts[target] = { kind: 'bind', path: source!.startsWith('/') ? source! : ctx.files.recipePath(source!), readonly };
    } else if (type === 'volume') {
      const named = source ?? `${service}-${target.split('/').filter(Boolean).join('-') || 'root'}`;
      const volumeName = warrenName(named) ?? `${service}-data`;
      if (source === undefined) ctx.notes.add(where, k, `an anonymous volume is volume('${volumeName}') (kept by down, like a named one)`);
      else if (!(source in ctx.declaredVolumes)) ctx.notes.add(where, k, `volume '${source}' is not declared under the top-level volumes: converted as a named volume anyway`);
      if (volumeName !== named) ctx.notes.add(where, k, `volume '${named}' is named '${volumeName}'`);
      if (readonly) ctx.notes.notConverted(where, k, 'read-only for a volume (it is mounted read-write)');
      mounts[target] = { kind: 'volume', name: volumeName };
    } else if (type === 'tmpfs') {
      mounts[target] = { kind: 'tmpfs', ...(size ? { size } : {}) };
    } else ctx.notes.notConverted(where, k, `mount type '${type}'`);
  });
  const tmpfs = def.tmpfs === undefined ? [] : Array.isArray(def.tmpfs) ? def.tmpfs : [def.tmpfs];
  tmpfs.forEach((entry, i) => {
    const [target = '', options = ''] = String(entry).split(':');
    if (!target.startsWith('/')) throw new ConvertError('CONVERT_INPUT_INVALID', at('tmpfs', i), `tmpfs target ${JSON.stringify(target)} is not an absolute path`);
    const size = options.split(',').find((o) => o.startsWith('size='))?.slice(5);
    const others = options.split(',').filter((o) => o && !o.startsWith('size='));
    if (others.length) ctx.notes.notConverted(at('tmpfs', i), key('tmpfs'), `tmpfs options ${others.join(',')}`);
    mounts[target] = { kind: 'tmpfs', ...(size && memory(size) ? { size: memory(size)! } : {}) };
  });
  return mounts;
}
