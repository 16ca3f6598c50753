/**
 * Every code block of README.md and docs/ runs, so that the documented pipeline can never drift from the
 * code. A block says what it is by its language:
 *   ts    a quote (first line `// from <file>`) must be verbatim in that file, which runs (docs/examples/*
 *         in spec/docs-examples.spec.ts, a spec itself, or lib/ itself); any other block is a program, run
 *         here with tsx on the fixture data: `from 'optbench'` (and each subpath package.json exports,
 *         `optbench/train`, ...) is the library's source, and
 *         `const cfg: LoadConfig = {};` (the real data set) becomes the fixture's config, and a plan's
 *         `dataset: 'fashion-mnist'` the fixture's name.
 *   sh    every command runs: `optbench ...` through the CLI on the fixture data with the native backend and
 *         the sizes scaled down (the documented options replaced; see scaledCommand); `bash scripts/setup.sh` and `npm test` are
 *         the commands CI runs (.ci/run), this spec among them.
 *         Commands that need more than one process (a Redis, workers and a coordinator; a server and a
 *         browser) or a quiet machine run in a spec of their own (OWN_SPECS), which reads or quotes them.
 *   text  not code (diagrams, a synopsis): each synopsis line `optbench X ...` names a command the CLI's
 *         own usage lists.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURE, ROOT, cli } from './support/cli.js';

interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

const markdown = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? markdown(p) : n.endsWith('.md') ? [p] : [];
  });

const blocks: Block[] = [join(ROOT, 'README.md'), ...markdown(join(ROOT, 'docs'))].flatMap((path) => {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    file: relative(ROOT, path),
    line: text.slice(0, m.index).split('\n').length,
    lang: m[1]!,
    code: m[2]!,
  }));
});
const where = (b: Block) => `${b.file}:${b.line}`;

/**
 * Each entry point of the package (`optbench`, `optbench/train`, ... as package.json `exports` declares
 * them) and the source file it is built from, for programs to import as a user's project would.
 */
const PACKAGE_ENTRIES: ReadonlyArray<readonly [string, string]> = Object.entries(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { import: string }> }).exports,
).flatMap(([key, target]) =>
  typeof target === 'string'
    ? []
    : [[key === '.' ? 'optbench' : `optbench/${key.slice(2)}`, pathToFileURL(join(ROOT, target.import.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'))).href] as const],
);

/** Commands run by a spec of their own, and the text that spec must contain to be running them. */
const OWN_SPECS: ReadonlyArray<{ readonly command: RegExp; readonly spec: string; readonly mentions: string }> = [
  // README's "On several machines": Redis, a worker and a coordinator at once.
  { command: /^redis-server |^(npx )?optbench worker |--queue /, spec: 'spec/readme-queue.spec.ts', mentions: '## On several machines' },
  { command: /^node --import tsx bench\/scale-out-sim\.ts/, spec: 'spec/scale-out-doc.spec.ts', mentions: 'node --import tsx bench/scale-out-sim.ts' },
  { command: /^node --import tsx bench\/scale-out-measure\.ts/, spec: 'spec/scale-out-doc.spec.ts', mentions: 'node --import tsx bench/scale-out-measure.ts' },
  { command: /^node --import tsx bench\/bf16-vs-fp32\.ts/, spec: 'spec/bf16-vs-fp32.spec.ts', mentions: "'bench/bf16-vs-fp32.ts'" },
  // README's "Watching runs live": a server that runs until stopped, opened in a browser while a grid trains.
  { command: /^(npx )?optbench serve /, spec: 'spec/serve-browser.spec.ts', mentions: '## Watching runs live' },
];
const ownSpec = (command: string) => OWN_SPECS.find((o) => o.command.test(command));

/** Splits a shell command line into words, honouring double and single quotes. */
const words = (line: string): string[] => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);

/**
 * Options appended to a documented `optbench` command: the fixture data, the native backend, small sizes (at
 * most two seeds, one epoch, a few dozen images) and no figures (the report's own specs draw them).
 */
const scaledDown = (argv: readonly string[], out: string): string[] => {
  // The native backend (CI builds it): bf16 products need it, and on TF.js's JavaScript backend a single
  // step of Muon's Newton-Schulz iteration on FCNN's first layer takes over half a minute.
  const common = ['--backend', 'native', '--data-dir', FIXTURE, '--dataset', 'fashion-mini', '--out', out, '--no-report'];
  const seeds = (n: number) => ['--seeds', String(Math.min(n, Number(argv[argv.indexOf('--seeds') + 1] ?? 1) || 1))];
  switch (argv[0]) {
    case 'task':
    case 'run':
      return [...common, ...seeds(2), '--epochs', '1', '--subset', '40', '--test-subset', '20'];
    case 'sweep':
      return [...common, ...seeds(1), '--epochs', '1', '--min-epochs', '1', '--subset', '40', '--test-subset', '20', '--holdout', '20'];
    case 'tune':
      return [...common, ...seeds(1), '--epochs', '1', '--subset', '40', '--test-subset', '20', '--holdout', '20', '--budget', '1'];
    default:
      return [];
  }
};

/**
 * The documented command scaled down: each option scaledDown sets replaces the documented one (with its
 * value), because an option may be given only once.
 */
const scaledCommand = (argv: readonly string[], out: string): string[] => {
  const extra = scaledDown(argv, out);
  const set = new Set(extra.filter((a) => a.startsWith('--')));
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!set.has(a)) kept.push(a);
    else if (a !== '--no-report' && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
  }
  return [...kept, ...extra];
};

const runTs = (file: string, cwd: string): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    // tsx's loader, named by path: the program runs in a directory of its own, outside the project.
    const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const p = spawn(process.execPath, ['--import', tsx, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('exit', (code) => resolve({ code, output }));
  });

describe('every code block of README.md and docs/ runs', function () {
  let tmp = '';
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'optbench-docblocks-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('finds the blocks, and each says what it is (ts, sh or text)', () => {
    assert.ok(blocks.length >= 20, `only ${blocks.length} blocks found`);
    for (const b of blocks) assert.ok(['ts', 'sh', 'text'].includes(b.lang), `${where(b)}: a block tagged '${b.lang}'; tag it ts, sh or text`);
    assert.ok(blocks.some((b) => b.file === 'README.md' && b.lang === 'ts' && !b.code.startsWith('// from ')), 'README has a program');
  });

  it('every quoted ts block is verbatim in its file, and that file is run by a spec (or is one)', () => {
    const quotes = blocks.filter((b) => b.lang === 'ts' && b.code.startsWith('// from '));
    assert.ok(quotes.length >= 10, `${quotes.length} quotes`);
    for (const b of quotes) {
      const [first, ...rest] = b.code.split('\n');
      const source = first!.slice('// from '.length).trim();
      assert.ok(/^(docs\/examples|spec|lib)\//.test(source), `${where(b)} quotes ${source}, which no spec runs`);
      assert.ok(existsSync(join(ROOT, source)), `${where(b)} quotes ${source}, which does not exist`);
      assert.ok(readFileSync(join(ROOT, source), 'utf8').includes(rest.join('\n')), `${where(b)}: the quote is not verbatim in ${source} any more`);
      if (source.startsWith('docs/examples/'))
        assert.match(readFileSync(join(ROOT, 'spec', 'docs-examples.spec.ts'), 'utf8'), new RegExp(`from '\\.\\./${source.replace(/\.ts$/, '.js').replace(/[./]/g, '\\$&')}'`));
    }
  });

  const programs = blocks.filter((b) => b.lang === 'ts' && !b.code.startsWith('// from '));
  for (const [i, b] of programs.entries())
    it(`the program at ${where(b)} runs on the fixture data`, async () => {
      const fixture = `const cfg: LoadConfig = ${JSON.stringify({ dir: FIXTURE, dataset: 'fashion-mini' })};`;
      if (b.code.includes('loadFashion$')) assert.ok(b.code.includes('const cfg: LoadConfig = {};'), `${where(b)} loads data: declare it as \`const cfg: LoadConfig = {};\``);
      // The data set the program loads and the one its specs name change together: a spec naming
      // fashion-mnist is refused on the fixture's data (spec/spec-checks.spec.ts).
      const code = PACKAGE_ENTRIES.reduce((c, [name, source]) => c.replaceAll(`from '${name}'`, `from '${source}'`), b.code)
        .replace('const cfg: LoadConfig = {};', fixture)
        .replaceAll("dataset: 'fashion-mnist'", "dataset: 'fashion-mini'");
      // The program lives under node_modules/.cache, so that its imports (rxjs, fp-ts) resolve as in a
      // user's project; it runs in a directory of its own, where it writes what it writes.
      const home = join(ROOT, 'node_modules', '.cache', 'optbench-docs-blocks');
      mkdirSync(home, { recursive: true });
      const program = mkdtempSync(join(home, `program-${i}-`));
      writeFileSync(join(program, 'block.mts'), code);
      const dir = mkdtempSync(join(tmp, `program-${i}-`));
      const { code: exit, output } = await runTs(join(program, 'block.mts'), dir).finally(() => rmSync(program, { recursive: true, force: true }));
      assert.equal(exit, 0, `${where(b)} failed:\n${output}`);
      if (b.code.includes('renderD3(')) assert.ok(readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('report.html')), 'it wrote its report');
    });

  const commands = blocks
    .filter((b) => b.lang === 'sh')
    .flatMap((b) =>
      b.code
        .replace(/\\\n/g, ' ')
        .split('\n')
        .flatMap((line) => line.split('&&'))
        .map((c) => c.trim())
        .map((c) => c.replace(/\s+#.*$/, ''))
        .filter((c) => c !== '' && !c.startsWith('#'))
        .map((command) => ({ block: b, command })),
    );

  it('commands that need several processes or a quiet machine are run by the spec named for them', () => {
    for (const { block, command } of commands) {
      const own = ownSpec(command);
      if (own === undefined) continue;
      assert.ok(existsSync(join(ROOT, own.spec)), `${where(block)}: ${own.spec} does not exist`);
      assert.ok(readFileSync(join(ROOT, own.spec), 'utf8').includes(own.mentions), `${where(block)}: ${own.spec} does not run '${command}'`);
    }
  });

  it('the setup and test commands are the ones CI runs, in that order', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    for (const { block, command } of commands.filter((c) => !/^(npx )?optbench /.test(c.command) && ownSpec(c.command) === undefined)) {
      assert.ok(['bash scripts/setup.sh', 'npm test'].includes(command), `${where(block)}: '${command}' is neither an optbench command nor one CI runs`);
      assert.ok(ci.includes(command), `${where(block)}: CI does not run '${command}'`);
    }
    assert.ok(ci.indexOf('bash scripts/setup.sh') < ci.indexOf('npm test'));
  });

  for (const [i, { block, command }] of commands.filter((c) => /^(npx )?optbench /.test(c.command) && ownSpec(c.command) === undefined).entries())
    it(`\`${command.slice(0, 70)}${command.length > 70 ? '…' : ''}\` (${where(block)}) runs on the fixture data`, async () => {
      const argv = words(command).slice(command.startsWith('npx ') ? 2 : 1);
      const out = join(tmp, `command-${i}`);
      const ran = await cli(scaledCommand(argv, out));
      assert.equal(ran.code, 0, `${where(block)}: ${command}\n${ran.stderr}`);
      assert.ok(existsSync(join(out, 'optbench.sqlite')), 'it trained into its run directory');
    });

  it('every synopsis line names a command the CLI lists in its usage', async () => {
    const usage = (await cli(['help'])).stdout;
    const synopses = blocks.filter((b) => b.lang === 'text').flatMap((b) => b.code.split('\n').filter((l) => l.startsWith('optbench ')).map((l) => ({ b, l })));
    assert.ok(synopses.length >= 9);
    for (const { b, l } of synopses) {
      const name = l.split(/\s+/)[1]!;
      assert.ok(usage.includes(`optbench ${name}`), `${where(b)}: 'optbench ${name}' is not in the CLI's usage`);
    }
  });
});
