// An HTTP proxy between a client and the example server that loses answers
// the way a mobile network does: the request reaches the server and is
// processed, but the client never gets (all of) the answer.
import { request as httpRequest, createServer } from 'node:http';

/**
 * What the proxy does with a request, chosen per request by `proxy.plan`:
 * - `pass`: forward it and return the answer;
 * - `lose`: forward it, let the server answer in full, then cut the
 *   client's connection without a byte of the answer;
 * - `cut`: forward it, return the status, headers and half the body, then
 *   cut the connection;
 * - `hang`: forward it and never answer (the client's timeout must act);
 * - `offline`: cut the connection at once; the server never sees it.
 */
export const ACTIONS = ['pass', 'lose', 'cut', 'hang', 'offline'];

/**
 * Starts a proxy in front of `target` (a base URL). `proxy.plan({method,
 * path})` returns an action for each request (default: always `pass`); set
 * it at any time. `proxy.log` lists every request as `{method, path, action,
 * status}`, status being the server's answer when the request reached it.
 */
export async function startProxy(target) {
  const upstream = new URL(target);
  const log = [];
  const proxy = {
    url: '',
    log,
    plan: () => 'pass',
    /** Requests to path that reached the server. */
    reached: (path) => log.filter((e) => e.path === path && e.status !== undefined),
    /** Requests to path whose answer the client received in full. */
    answered: (path) => log.filter((e) => e.path === path && e.action === 'pass' && e.status !== undefined),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url, upstream).pathname;
    const action = proxy.plan({ method: req.method, path }) ?? 'pass';
    if (!ACTIONS.includes(action)) throw new Error(`proxy: unknown action ${action}`);
    const entry = { method: req.method, path, action, status: undefined };
    log.push(entry);
    if (action === 'offline') {
      req.socket.destroy();
      return;
    }
    const up = httpRequest(
      new URL(req.url, upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host, connection: 'close' }, agent: false },
      (answer) => {
        entry.status = answer.statusCode;
        const chunks = [];
        answer.on('data', (c) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          if (action === 'hang') return;
          if (action === 'lose') {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode, withoutHopHeaders(answer.rawHeaders));
          if (action === 'cut') {
            res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
            return;
          }
          res.end(body);
        });
      },
    );
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  return proxy;
}

/** Raw headers (a flat name, value list) without Connection and Keep-Alive. */
function withoutHopHeaders(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!/^(connection|keep-alive)$/i.test(raw[i])) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** The claims of a JWT, decoded without checking anything (for assertions only). */
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
