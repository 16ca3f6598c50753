import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { ROOT } from './support/cli.js';

describe('the build', () => {
  it('compiles the library and the pipelines into dist/, and no spec, bench or doc example', () => {
    const listed = execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--listFilesOnly'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const ours = listed
      .split('\n')
      .map((f) => relative(ROOT, f.trim()))
      .filter((f) => f !== '' && !f.startsWith('..') && !f.startsWith('node_modules'));
    assert.ok(ours.includes('lib/index.ts') && ours.includes('pipelines/index.ts'));
    assert.deepEqual(
      ours.filter((f) => !/^(lib|pipelines)\//.test(f)),
      [],
    );
  });
});
