// Who the UI server answers: only requests that carry its token, name it by 127.0.0.1 or
// localhost with its own port, and (for actions) come from its own page by POST with the token
// in a header. Each way in that a hostile page or a rebound DNS name would take is tried here.
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TOKEN_HEADER } from '../../sdk/ui/api-types.ts';
import { startUiServer, type UiServer } from '../../sdk/ui/server.ts';
import { tempStateDir } from '../helpers/env.ts';

let server: UiServer;
const state = tempStateDir('uiguard');

test.before(async () => {
  server = await startUiServer({ port: 0, stateDir: state.path });
});

test.after(async () => {
  await server.close();
  state.remove();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: node:http lets a test set Host and Origin as a hostile client would. */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${server.port}`, ...options.headers }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Bytes on a socket, as a client that sends no Host header at all would. */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

const withToken = (extra: Record<string, string> = {}) => ({ [TOKEN_HEADER]: server.token, ...extra });
const origin = () => `http://127.0.0.1:${server.port}`;

test('listens on 127.0.0.1 only, and the printed URL carries a long random token', () => {
  assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  assert.ok(server.token.length >= 32);
});

test('the page and the API answer with the token (in the URL or a header)', async () => {
  const page = await send(`/?token=${server.token}`);
  assert.is(page.status, 200);
  assert.match(page.body, /<script type="module" src="\/app\.js\?token=/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  const js = await send(`/app.js?token=${server.token}`);
  assert.is(js.status, 200);
  assert.ok(js.body.length > 1000, 'the bundle is served');
  assert.not.match(js.body, /https?:\/\/(?!127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}\/[^"'\s]*\.(js|css|woff2?)/i, 'the bundle loads nothing from elsewhere');
  const list = await send('/api/instances', { headers: withToken() });
  assert.is(list.status, 200);
  assert.equal(JSON.parse(list.body).instances, []);
  const byName = await send('/api/instances', { headers: withToken({ host: `localhost:${server.port}` }) });
  assert.is(byName.status, 200, 'localhost:PORT is this server too');
});

test('without the token, or with a wrong one, everything is refused', async () => {
  for (const path of ['/', '/app.js', '/api/instances', '/api/instances/checkout/default', '/api/instances/checkout/default/stream']) {
    assert.is((await send(path)).status, 401, path);
  }
  const wrong = server.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  assert.is((await send(`/?token=${wrong}`)).status, 401, 'a token one character off');
  assert.is((await send('/api/instances', { headers: { [TOKEN_HEADER]: 'short' } })).status, 401);
});

test('a foreign Host header is refused, token or not (DNS rebinding)', async () => {
  for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `127.0.0.1.nip.io:${server.port}`, `[::1]:${server.port}`]) {
    const answer = await send(`/?token=${server.token}`, { headers: { host } });
    assert.is(answer.status, 403, `Host: ${host}`);
    assert.not.match(answer.body, /script/, 'nothing of the page');
  }
  const bare = await rawRequest(`GET /?token=${server.token} HTTP/1.0\r\n\r\n`);
  assert.match(bare, /^HTTP\/1\.[01] 403/, 'no Host header at all');
});

test('another origin is refused, also for reading', async () => {
  assert.is((await send('/api/instances', { headers: withToken({ origin: 'http://evil.example' }) })).status, 403);
  assert.is((await send('/api/instances', { headers: withToken({ origin: `http://localhost.evil.example:${server.port}` }) })).status, 403);
  assert.is((await send('/api/instances', { headers: withToken({ 'sec-fetch-site': 'cross-site' }) })).status, 403);
  assert.is((await send('/api/instances', { headers: withToken({ origin: origin(), 'sec-fetch-site': 'same-origin' }) })).status, 200);
});

test('actions: POST only, the token in a header (not the URL), the page\'s own Origin', async () => {
  const path = '/api/instances/wuishop/nothere/actions/down';
  assert.is((await send(`${path}?token=${server.token}`, { method: 'POST', headers: { origin: origin() } })).status, 401, 'a token in the URL does not do for an action (a link or form could carry it)');
  assert.is((await send(path, { method: 'POST', headers: withToken() })).status, 403, 'no Origin');
  assert.is((await send(path, { method: 'POST', headers: withToken({ origin: 'null' }) })).status, 403, 'a sandboxed page');
  assert.is((await send(path, { method: 'POST', headers: withToken({ origin: 'http://evil.example' }) })).status, 403);
  assert.is((await send(path, { method: 'PUT', headers: withToken({ origin: origin() }) })).status, 405);
  assert.is((await send(`${path}?token=${server.token}`)).status, 405, 'GET of an action does nothing');
  const notUp = await send(path, { method: 'POST', headers: withToken({ origin: origin() }) });
  assert.is(notUp.status, 404, notUp.body);
  assert.equal(JSON.parse(notUp.body).code, 'INSTANCE_NOT_FOUND');
  assert.match(JSON.parse(notUp.body).message, /not up/);
});

test('bad requests get a clear error and change nothing', async () => {
  const post = (path: string, body?: string) => send(path, { method: 'POST', headers: withToken({ origin: origin(), 'content-type': 'application/json' }), ...(body === undefined ? {} : { body }) });
  const unknown = await post('/api/instances/wuishop/x/actions/format-disk');
  assert.is(unknown.status, 404);
  assert.match(JSON.parse(unknown.body).message, /no action 'format-disk' \(actions: down, shape, partition, heal\)/);
  assert.is((await post('/api/instances/wuishop/x/actions/down', '{not json')).status, 400);
  assert.is((await post('/api/instances/wuishop/x/actions/down', 'x'.repeat(10_000))).status, 400, 'a body too large');
  const traversal = await send('/api/instances/..%2F..%2Fetc/passwd', { headers: withToken() });
  assert.is(traversal.status, 400, traversal.body);
  assert.is((await send('/api/instances/%E0%A4%A/x', { headers: withToken() })).status, 400, 'malformed escapes');
  assert.is((await send('/nothing', { headers: withToken() })).status, 404);
});

test.run();
