import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
  overrides?: Record<string, unknown>;
};
const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean; name?: string }>;
};
/** `node_modules/a/node_modules/@b/c` → `@b/c` */
const packageName = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

// `npm ci` must work as typed on a machine that reaches only the npm registry: no install step
// may download anything (a browser, a binary), and no new install script may slip in unreviewed.
describe('what npm ci installs', () => {
  it('holds no browser download: Artillery’s Playwright engine is replaced by an empty package', () => {
    const browsers = Object.keys(lock.packages).filter((path) => /(^|\/)(@playwright\/|playwright(-core)?$|puppeteer)/.test(packageName(path)));
    expect(browsers).toEqual([]);
  });

  it('runs only install scripts that were reviewed in package.json allowScripts', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
      .map(([path]) => packageName(path));
    const reviewed = Object.keys(manifest.allowScripts ?? {});
    expect(withScripts.filter((name) => !reviewed.includes(name))).toEqual([]);
    // The one allowed script only checks esbuild's native binary, which ships in the registry package.
    expect(
      Object.entries(manifest.allowScripts ?? {})
        .filter(([, allowed]) => allowed)
        .map(([name]) => name),
    ).toEqual(['esbuild']);
  });

  it('is what CI installs with, as the README types it: plain `npm ci`, no variable set first', () => {
    const ci = readFileSync(resolve(root, '.ci', 'run'), 'utf8');
    const installs = ci.split('\n').filter((line) => /\bnpm (ci|install)\b/.test(line) && !line.trimStart().startsWith('#'));
    expect(installs.map((line) => line.trim())).toEqual(['npm ci']);
  });
});
