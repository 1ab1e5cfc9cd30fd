// One server-sent-events stream per open instance view: every service's log and the event log,
// batched every FLUSH_MS, with back-pressure (nothing is written while the socket is full; the
// batcher keeps the newest lines meanwhile). Ends with `gone` when the instance goes away.
import type { ServerResponse } from 'node:http';
import type { Instance } from '../runtime/instance.ts';
import type { StreamMessage } from './api-types.ts';
import { LineBatcher } from './line-batcher.ts';

const FLUSH_MS = 100;
const HEARTBEAT_MS = 15_000;

export async function streamInstance(handle: Instance, res: ServerResponse, signal: AbortSignal): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  const batcher = new LineBatcher();
  let blocked = false;
  let lastWrite = Date.now();
  const send = (message: StreamMessage) => {
    if (!res.write(`data: ${JSON.stringify(message)}\n\n`)) blocked = true;
    lastWrite = Date.now();
  };
  const flush = () => {
    if (blocked) return;
    for (const message of batcher.take()) send(message);
    // A comment now and then: a client that vanished without a FIN is noticed by the failing write.
    if (Date.now() - lastWrite > HEARTBEAT_MS) {
      res.write(': ping\n\n');
      lastWrite = Date.now();
    }
  };
  res.on('drain', () => {
    blocked = false;
    flush();
  });
  const timer = setInterval(flush, FLUSH_MS);
  try {
    const followers = [
      ...handle.plan.services.map(async ({ name }) => {
        for await (const text of handle.followLogs(name, { signal })) batcher.addText(name, text);
      }),
      (async () => {
        for await (const event of handle.events({ follow: true, signal })) batcher.addEvent(event);
      })(),
    ];
    // Each follower ends when the instance's folder is gone or the client left (signal).
    await Promise.allSettled(followers);
    if (!signal.aborted) {
      blocked = false;
      flush();
      send({ type: 'gone' });
    }
  } finally {
    clearInterval(timer);
    res.end();
  }
}
