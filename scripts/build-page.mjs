#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles the live page's script (lib/serve/page/app.ts and what it
// imports) into dist/lib/serve/page/app.js, which an installed `optbench serve` sends as /app.js. The
// bundling is the server's own (dist/lib/serve/page-script.js), as it does from the sources.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bundlePageScript } = await import(join(root, 'dist', 'lib', 'serve', 'page-script.js'));
const out = join(root, 'dist', 'lib', 'serve', 'page', 'app.js');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, await bundlePageScript(join(root, 'lib', 'serve', 'page', 'app.ts')));
process.stdout.write(`optbench: bundled the live page's script (${out.slice(root.length + 1)}).\n`);
