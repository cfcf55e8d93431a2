// Starts the Go example server (../../../../example) for the tests: a binary
// built once per test file (or JWTGUARD_EXAMPLE_BIN, which CI builds once),
// on a free port chosen by the kernel, with the embedded Redis. A server that
// cannot be built or started fails the test file; nothing is skipped.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Where the example mounts its auth routes: /auth/* for bearer tokens, /web/auth/* for cookies. */
export const exampleRoutes = {
  bearer: { login: '/auth/login', refresh: '/auth/refresh', logout: '/auth/logout', stepUp: '/auth/step-up' },
  cookie: { login: '/web/auth/login', refresh: '/web/auth/refresh', logout: '/web/auth/logout', stepUp: '/web/auth/step-up' },
};

/** Builds the example, unless JWTGUARD_EXAMPLE_BIN names a built one. */
async function exampleBinary() {
  if (process.env.JWTGUARD_EXAMPLE_BIN) return { bin: process.env.JWTGUARD_EXAMPLE_BIN, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'jwtguard-example-'));
  const bin = join(dir, 'example');
  try {
    await promisify(execFile)('go', ['build', '-o', bin, './example'], { cwd: repoRoot });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`building the example server failed: ${err.stderr || err.message}`);
  }
  return { bin, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts the example and resolves when it listens. env is added to the
 * server's environment (ACCESS_TTL, …). Every Redis setting is removed, so
 * the server always uses its own embedded Redis even where CI exports real
 * ones: servers of concurrent tests must not share sessions.
 */
export async function startExample({ env = {}, timeoutMs = 60_000 } = {}) {
  const { bin, cleanup } = await exampleBinary();
  const childEnv = { ...process.env, ADDR: '127.0.0.1:0', ...env };
  for (const name of Object.keys(childEnv)) {
    if (name.startsWith('REDIS_')) delete childEnv[name];
  }
  const child = spawn(bin, [], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example server did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const m = /msg=listening addr=(\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`starting the example server: ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`example server exited (code ${code}, signal ${signal}) before listening:\n${output}`));
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await cleanup();
    throw err;
  });

  const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logs: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    },
  };
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1, for a server whose
 * PUBLIC_URL must name its port before it starts (DPoP proofs name it).
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the example on a port picked beforehand, with PUBLIC_URL its own
 * address (http://host:port), so that DPoP proofs made for the URLs the
 * client calls are the ones the server checks. env is added as in
 * startExample; host is how clients name it (127.0.0.1, or localhost for a
 * browser).
 */
export async function startExampleAtOwnURL({ env = {}, host = '127.0.0.1', ...rest } = {}) {
  for (let tries = 1; ; tries++) {
    const port = await freePort();
    try {
      const server = await startExample({ ...rest, env: { ADDR: `127.0.0.1:${port}`, PUBLIC_URL: `http://${host}:${port}`, ...env } });
      return { ...server, url: `http://${host}:${port}` };
    } catch (err) {
      if (tries >= 3) throw err; // the port was taken meanwhile: try another
    }
  }
}
