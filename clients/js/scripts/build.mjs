// Builds the client (ESM + type declarations in dist/) and copies the
// compiled modules into the example's browser demo (example/web/jwtguard/),
// which the Go example embeds. The copy is committed, so `go run ./example`
// needs no Node; CI rebuilds it and fails when it differs from the commit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const demo = join(root, '..', '..', 'example', 'web', 'jwtguard');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

rmSync(demo, { recursive: true, force: true });
mkdirSync(demo, { recursive: true });
const header = '// Built from clients/js/src by `npm run build` in clients/js. Do not edit.\n';
for (const name of readdirSync(dist).filter((f) => f.endsWith('.js')).sort()) {
  writeFileSync(join(demo, name), header + readFileSync(join(dist, name), 'utf8'));
}
console.log(`built ${dist} and copied the modules to ${demo}`);
