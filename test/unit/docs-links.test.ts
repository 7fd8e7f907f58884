import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The docs are split over README.md, BENCHMARKS.md and docs/; sections move between them, so a
// link or #anchor that used to work can silently point nowhere. This checks them all offline.
const root = resolve(__dirname, '..', '..');
const docsDir = join(root, 'docs');
const markdownFiles = [
  'README.md',
  'BENCHMARKS.md',
  ...(existsSync(docsDir) ? readdirSync(docsDir, { recursive: true, encoding: 'utf8' }) : [])
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file.split('\\').join('/')}`),
];

/** Blanks a match but keeps its newlines, so offsets still give the right line numbers. */
const blank = (text: string) => text.replace(/[^\n]/g, ' ');

/** The markdown with fenced code blocks blanked: `[x](y)` or `# x` in a code sample is not markdown. */
function withoutFences(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined) {
        if (marker) fence = marker;
      } else if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
        fence = undefined;
        return '';
      }
      return fence === undefined ? line : '';
    })
    .join('\n');
}

/** GitHub's heading ids: lowercase, punctuation other than '-' and '_' dropped, each space a '-'. */
function slug(headingText: string): string {
  const text = headingText
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or image in a heading counts by its text
    .replace(/<[^>]+>/g, ''); // as does inline HTML
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** Every #anchor a file offers: heading slugs (repeats get -1, -2, … like GitHub) and explicit <a id/name>. */
function anchorsOf(absolutePath: string): Set<string> {
  const cached = anchorCache.get(absolutePath);
  if (cached) return cached;
  const anchors = new Set<string>();
  const markdown = withoutFences(readFileSync(absolutePath, 'utf8'));
  // ATX headings only (`## Title`): these docs use no underlined (setext) headings.
  for (const [, text = ''] of markdown.matchAll(/^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/gm)) {
    const base = slug(text);
    let id = base;
    for (let n = 1; anchors.has(id); n++) id = `${base}-${n}`;
    anchors.add(id);
  }
  for (const [, id = ''] of markdown.matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(id);
  anchorCache.set(absolutePath, anchors);
  return anchors;
}

/** What is wrong with one link target in `file`, or undefined if it works. */
function problemWith(file: string, target: string): string | undefined {
  if (/^(https?|mailto):/i.test(target)) return undefined; // the web is not checked offline
  const hashAt = target.indexOf('#');
  const path = decodeURIComponent(hashAt < 0 ? target : target.slice(0, hashAt));
  const anchor = hashAt < 0 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
  // GitHub resolves `/x` from the repository root and anything else from the linking file's folder.
  const resolved = path === '' ? join(root, file) : path.startsWith('/') ? join(root, path) : resolve(root, dirname(file), path);
  if (!existsSync(resolved)) return 'no such file';
  if (anchor === undefined || !statSync(resolved).isFile() || !resolved.endsWith('.md')) return undefined;
  return anchorsOf(resolved).has(anchor) ? undefined : 'no such heading';
}

describe('documentation', () => {
  it('has no broken relative link or #anchor in README.md, BENCHMARKS.md and docs/', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      // Inline code spans are literal text too.
      const markdown = withoutFences(readFileSync(join(root, file), 'utf8')).replace(/(`+)[^`][\s\S]*?\1/g, blank);
      // Every `](target)` outside code is a link or image destination, nested ones included
      // (`[![alt](img)](target)`); a title after the target is allowed, `<…>` brackets too.
      for (const match of markdown.matchAll(/\]\(\s*(<[^>]*>|[^)\s]*)[^)]*\)/g)) {
        const target = (match[1] ?? '').replace(/^<|>$/g, '');
        const problem = problemWith(file, target);
        const line = markdown.slice(0, match.index).split('\n').length;
        if (problem) broken.push(`${file}:${line} → ${target} (${problem})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('keeps README.md to what a newcomer reads first: at most 200 lines', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const lines = readme.split('\n').length - (readme.endsWith('\n') ? 1 : 0);
    expect(lines).toBeLessThanOrEqual(200);
  });
});
