#!/usr/bin/env node
// Builds the `native` backend's addon (native/*.cc over oneDNN) with node-gyp. Run at install time: it
// always exits 0, so that installing optbench never fails where oneDNN or a compiler is missing; then the
// `native` backend is simply unavailable (with a message saying how to get it) and `cpu` is used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const warn = (why) => {
  process.stderr.write(
    `\noptbench: the 'native' backend was not built (${why}).\n` +
      `  optbench still works on TF.js's JavaScript 'cpu' backend, 100-1000x slower for training.\n` +
      `  To build it: apt-get install libdnnl-dev g++ make python3 (Debian/Ubuntu), then\n` +
      `  'npm rebuild optbench' (or 'node scripts/build-native.mjs' in a checkout).\n\n`,
  );
  process.exit(0);
};

if (process.env.OPTBENCH_SKIP_NATIVE === '1') warn('OPTBENCH_SKIP_NATIVE=1');
const headers = ['/usr/include/dnnl.hpp', '/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];
if (!headers.some((h) => existsSync(h)) && process.env.CPATH === undefined)
  warn('oneDNN headers not found: the Debian/Ubuntu package is libdnnl-dev');

let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  warn('node-gyp is not installed');
}
// Node's own headers ship with Debian's nodejs in /usr/include/node; elsewhere node-gyp finds or fetches them.
const nodedir = existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h'))
  ? [`--nodedir=${join(dirname(process.execPath), '..')}`]
  : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) warn(`node-gyp rebuild failed${r.error ? `: ${r.error.message}` : ` with exit code ${r.status}`}`);
process.stdout.write("optbench: built the 'native' backend (build/Release/optbench_native.node).\n");
