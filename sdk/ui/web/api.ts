// The page's one way to the server: the token from the page's own address, sent as a header
// (actions) or a query parameter (the event stream, which cannot set headers).
import { TOKEN_HEADER, type ActionResult, type InstanceDetail, type InstancesResponse, type StreamMessage } from '../api-types.ts';

const token = new URLSearchParams(location.search).get('token') ?? '';

export function instancePath(env: string, instance: string): string {
  return `/api/instances/${encodeURIComponent(env)}/${encodeURIComponent(instance)}`;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { [TOKEN_HEADER]: token }, cache: 'no-store' });
  const body = (await res.json()) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

export const fetchInstances = () => getJson<InstancesResponse>('/api/instances');
export const fetchDetail = (env: string, instance: string) => getJson<InstanceDetail>(instancePath(env, instance));

export async function runAction(env: string, instance: string, action: string, args: Record<string, unknown> = {}): Promise<ActionResult> {
  try {
    const res = await fetch(`${instancePath(env, instance)}/actions/${encodeURIComponent(action)}`, {
      method: 'POST',
      headers: { [TOKEN_HEADER]: token, 'content-type': 'application/json' },
      body: JSON.stringify(args),
    });
    return (await res.json()) as ActionResult;
  } catch (error) {
    return { ok: false, message: `the server did not answer (${(error as Error).message})` };
  }
}

/** Follows an instance's logs and events; returns the function that stops following. */
export function followInstance(env: string, instance: string, onMessage: (message: StreamMessage) => void): () => void {
  const source = new EventSource(`${instancePath(env, instance)}/stream?token=${encodeURIComponent(token)}`);
  source.onmessage = (event: MessageEvent<string>) => {
    const message = JSON.parse(event.data) as StreamMessage;
    onMessage(message);
    // The instance is gone: reconnecting would only be refused.
    if (message.type === 'gone') source.close();
  };
  return () => source.close();
}

/** How the page names an instance (and its #address). */
export const keyOf = (i: { readonly env: string; readonly instance: string }) => `${i.env}/${i.instance}`;
