import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { Script } from 'node:vm';
import { bundlePageScript } from '../lib/serve/page-script.js';
import { ROOT } from './support/cli.js';

/** `tsc ...args` in the project; its errors (which it prints on stdout) fail the test. */
const tsc = (...args: string[]): string => {
  try {
    return execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], { cwd: ROOT, encoding: 'utf8' });
  } catch (u) {
    return assert.fail(`tsc ${args.join(' ')} failed:\n${(u as { stdout?: string }).stdout ?? String(u)}`);
  }
};

describe('the build', () => {
  it('compiles the library and the pipelines into dist/, and no spec, bench or doc example', () => {
    const listed = tsc('-p', 'tsconfig.build.json', '--listFilesOnly');
    const ours = listed
      .split('\n')
      .map((f) => relative(ROOT, f.trim()))
      .filter((f) => f !== '' && !f.startsWith('..') && !f.startsWith('node_modules'));
    assert.ok(ours.includes('lib/index.ts') && ours.includes('pipelines/index.ts'));
    assert.deepEqual(
      ours.filter((f) => !/^(lib|pipelines)\//.test(f)),
      [],
    );
    // The page's script is the browser's: only the contract it shares with the server is compiled for Node.
    assert.deepEqual(ours.filter((f) => f.startsWith('lib/serve/page/')), ['lib/serve/page/messages.ts']);
  });

  it("type-checks the live page's script with the DOM's types, and bundles it into one classic script", async () => {
    // What `npm run typecheck` and `npm run build` run: it prints nothing when the types hold.
    assert.equal(tsc('-p', 'lib/serve/page/tsconfig.json'), '');
    const listed = tsc('-p', 'lib/serve/page/tsconfig.json', '--listFilesOnly');
    assert.ok(listed.includes('lib.dom.d.ts') && !listed.includes('@types/node'), 'DOM types, not Node\'s');
    const js = await bundlePageScript(join(ROOT, 'lib', 'serve', 'page', 'app.ts'));
    // A script, not a module: it compiles as one (without running) and imports nothing.
    new Script(js, { filename: 'app.js' });
    assert.doesNotMatch(js, /^\s*(import|export)\b/m);
    assert.match(js, /new EventSource\("\/events"\)/);
    assert.deepEqual([...js.matchAll(/^ {2}\/\/ (\S+)$/gm)].map((m) => m[1]), ['dom.ts', 'section.ts', 'app.ts'], 'every module of the page, bundled');
  });
});
