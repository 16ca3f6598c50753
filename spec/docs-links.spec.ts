/**
 * Every relative link of the project's Markdown (README, docs/ and its subfolders, bench/, …) points at a
 * file that exists, and a link with an anchor into a Markdown file names one of that file's headings,
 * slugged as GitHub slugs them. A results folder that is renamed, or a heading that is reworded, would
 * otherwise leave README's table of reproduced tables pointing nowhere.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import GithubSlugger from 'github-slugger';

/** Installed, built or generated folders (.gitignore's), which hold no Markdown of the project. */
const SKIP = new Set(['node_modules', 'dist', '.git', 'build', 'runs', 'coverage', '.optbench-cache']);

/** The repository's Markdown files, relative to its root. */
const markdownFiles = (dir = '.'): string[] =>
  readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [normalize(path)] : [];
  });

/** Markdown without its fenced code blocks, where neither a heading nor a link is one. */
const withoutFences = (text: string): string => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');

/** Markdown without its code (fenced blocks and inline spans), where a `](` is not a link. */
const prose = (text: string): string => withoutFences(text).replace(/`[^`\n]*`/g, '');

/** The anchors GitHub gives a file's headings (repeated headings get -1, -2, … as on GitHub). */
const headingAnchors = (markdown: string): Set<string> => {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const m of withoutFences(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    // GitHub slugs the rendered text: a link contributes its text, code spans their content.
    const text = m[1]!.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    anchors.add(slugger.slug(text));
  }
  return anchors;
};

interface Link {
  readonly file: string;
  readonly target: string;
  readonly anchor: string | undefined;
}

const linksOf = (file: string): Link[] =>
  [...prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]*)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => href !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(href))
    .map((href) => {
      const [path, anchor] = href.split('#', 2) as [string, string | undefined];
      return { file, target: path === '' ? file : normalize(join(dirname(file), decodeURI(path))), anchor };
    });

describe('the Markdown links', function () {
  const files = markdownFiles();

  it('finds the project Markdown, README and the results included', () => {
    for (const f of ['README.md', 'docs/architecture.md', join('docs', 'results', 'README.md')])
      assert.ok(files.includes(normalize(f)), `${f} is not among the files checked: ${files.join(', ')}`);
  });

  it('slugs headings as GitHub does', () => {
    const anchors = headingAnchors(
      '# Results\n\n## task3-bcnn/\n\n```\n## not a heading\n```\n\n## On several machines\n\n## `optbench task` and [d3](https://d3js.org)\n\n## Notes\n\n## Notes\n',
    );
    assert.deepEqual([...anchors], ['results', 'task3-bcnn', 'on-several-machines', 'optbench-task-and-d3', 'notes', 'notes-1']);
  });

  it('point at files that exist', () => {
    const missing = files
      .flatMap(linksOf)
      .filter((l) => !existsSync(l.target))
      .map((l) => `${l.file} links to ${relative('.', l.target)}, which does not exist`);
    assert.deepEqual(missing, []);
  });

  it("name a heading of the Markdown file they point into", () => {
    const cache = new Map<string, Set<string>>();
    const anchorsOf = (f: string): Set<string> => {
      if (!cache.has(f)) cache.set(f, headingAnchors(readFileSync(f, 'utf8')));
      return cache.get(f)!;
    };
    const links = files.flatMap(linksOf).filter((l) => l.anchor !== undefined && l.target.endsWith('.md') && existsSync(l.target));
    assert.ok(links.length > 0, 'no anchored link was found, so nothing was checked');
    const broken = links
      .filter((l) => !anchorsOf(l.target).has(l.anchor!))
      .map((l) => `${l.file} links to ${relative('.', l.target)}#${l.anchor}; its headings give ${[...anchorsOf(l.target)].join(', ')}`);
    assert.deepEqual(broken, []);
  });
});
