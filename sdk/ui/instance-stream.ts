// One server-sent-events stream per open instance view: every service's log and the event log,
// batched every FLUSH_MS, with back-pressure (while the socket is full nothing is read or written:
// the logs wait on disk). Ends with `gone` when the instance goes away.
import type { ServerResponse } from 'node:http';
import { LogTails } from '../ops/log-tail.ts';
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
  // The logs are read on the flush timer: one read of each log per flush, however fast they grow.
  const tails = new LogTails(handle, handle.plan.services.map((s) => s.name));
  let gone: () => void = () => undefined;
  const logsGone = new Promise<void>((resolve) => (gone = resolve));
  const tick = () => {
    if (!blocked) for (const { service, text } of tails.read()) batcher.addText(service, text);
    if (tails.gone()) gone();
    flush();
  };
  tick();
  const timer = setInterval(tick, FLUSH_MS);
  signal.addEventListener('abort', () => gone(), { once: true });
  try {
    const events = (async () => {
      for await (const event of handle.events({ follow: true, signal })) batcher.addEvent(event);
    })();
    // Both end when the instance's folder is gone or the client left (signal).
    await Promise.allSettled([logsGone, events]);
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
