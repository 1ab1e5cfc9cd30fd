// Who may talk to the UI server: a page this server served, on this machine. The token (in the
// printed URL, then in a header) proves the caller saw that URL; the Host check stops DNS
// rebinding (a foreign name resolving to 127.0.0.1); the Origin check stops other sites' pages.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_HEADER } from './api-types.ts';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export type Refusal = { readonly status: 401 | 403 | 405; readonly reason: string };

/** The hosts a browser on this machine sends for this server: never a name someone else controls. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** Why a request is refused, or undefined when it may go on. */
export function refusal(req: IncomingMessage, url: URL, opts: { token: string; port: number }): Refusal | undefined {
  const hosts = allowedHosts(opts.port);
  if (!hosts.has(req.headers.host ?? '')) return { status: 403, reason: 'foreign Host header' };
  const stateChanging = req.method !== 'GET' && req.method !== 'HEAD';
  const origin = req.headers.origin;
  // Browsers send Origin on every POST: one from elsewhere, or none at all, is not our page.
  if (origin !== undefined ? !hosts.has(hostOfOrigin(origin)) : stateChanging) return { status: 403, reason: 'foreign or missing Origin' };
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { status: 403, reason: `cross-site request (${site})` };
  // Actions carry the token in a header only: a form or a link elsewhere cannot set one.
  const given = stateChanging ? headerToken(req) : headerToken(req) ?? url.searchParams.get('token') ?? undefined;
  if (!given || !sameSecret(given, opts.token)) return { status: 401, reason: 'missing or wrong token' };
  if (stateChanging && req.method !== 'POST') return { status: 405, reason: 'actions are POST only' };
  return undefined;
}

function hostOfOrigin(origin: string): string {
  return origin.startsWith('http://') ? origin.slice('http://'.length) : '';
}

function headerToken(req: IncomingMessage): string | undefined {
  const value = req.headers[TOKEN_HEADER];
  return typeof value === 'string' ? value : undefined;
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
