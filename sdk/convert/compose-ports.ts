// Compose's `ports` and `expose` of a service: the one port a warren service has, and what is published.
import { isRecord } from './common.ts';
import type { ComposeContext, Where } from './compose-context.ts';
import type { ImageMapping } from './images.ts';

export function portOf(def: Record<string, unknown>, mapped: ImageMapping | undefined, at: Where, key: Where, ctx: ComposeContext, asTask: boolean): { port: number; publish?: number | true } | undefined {
  const ports = Array.isArray(def.ports) ? def.ports : [];
  let found: { port: number; publish?: number | true } | undefined;
  ports.forEach((entry, i) => {
    const where = at('ports', i);
    const parsed = parsePort(entry);
    if (typeof parsed === 'string') return ctx.notes.notConverted(where, key('ports', i), parsed);
    if (found || asTask) return ctx.notes.notConverted(where, key('ports', i), asTask ? 'a port of a task' : `a second port (${JSON.stringify(entry)}): a warren service has one`);
    if (parsed.hostIp && !['127.0.0.1', 'localhost', '0.0.0.0', '::', '[::]'].includes(parsed.hostIp)) ctx.notes.add(where, key('ports', i), `published on 127.0.0.1 only (not ${parsed.hostIp})`);
    if (parsed.hostIp && ['0.0.0.0', '::', '[::]'].includes(parsed.hostIp)) ctx.notes.add(where, key('ports', i), 'published on 127.0.0.1 only (warren never publishes beyond this machine)');
    found = { port: parsed.port, publish: parsed.publish };
  });
  const expose = Array.isArray(def.expose) ? def.expose : [];
  expose.forEach((entry, i) => {
    const port = Number(String(entry).split('/')[0]);
    if (!found && Number.isInteger(port) && port > 0 && port < 65536) found = { port };
    else if (port !== found?.port) ctx.notes.notConverted(at('expose', i), key('expose', i), `a second port (${String(entry)}): a warren service has one`);
  });
  return found ?? (mapped ? { port: mapped.port } : undefined);
}

/** One entry of `ports:`: the container's port and what is published, or why it is not converted. */
function parsePort(entry: unknown): { port: number; publish: number | true; hostIp?: string } | string {
  if (typeof entry === 'number') return { port: entry, publish: true };
  if (isRecord(entry)) {
    const port = Number(entry.target);
    if (!Number.isInteger(port)) return 'a port without a numeric target';
    if (entry.protocol !== undefined && entry.protocol !== 'tcp') return `protocol ${String(entry.protocol)} (warren's ports are TCP)`;
    const published = entry.published === undefined ? true : Number(entry.published);
    if (published !== true && !Number.isInteger(published)) return `published range ${String(entry.published)}`;
    return { port, publish: published, ...(typeof entry.host_ip === 'string' ? { hostIp: entry.host_ip } : {}) };
  }
  const text = String(entry);
  const [spec = '', protocol = 'tcp'] = text.split('/');
  if (protocol !== 'tcp') return `protocol ${protocol} (warren's ports are TCP)`;
  if (spec.includes('-')) return `the port range ${text}`;
  const ip = spec.match(/^(\[[^\]]+\]|[^:]*):(.*)$/);
  const parts = spec.split(':');
  const container = Number(parts.at(-1));
  if (!Number.isInteger(container) || container < 1 || container > 65535) return `port ${text}`;
  if (parts.length === 1) return { port: container, publish: true };
  const hostPort = parts.length >= 3 ? parts.at(-2)! : parts[0]!;
  const hostIp = parts.length >= 3 ? ip?.[1] : undefined;
  const publish = hostPort === '' ? true : Number(hostPort);
  if (publish !== true && (!Number.isInteger(publish) || publish < 1 || publish > 65535)) return `port ${text}`;
  return { port: container, publish, ...(hostIp ? { hostIp } : {}) };
}
