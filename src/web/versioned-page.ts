import { sha256 } from '../domain/tokens';
import fs from 'node:fs';
import path from 'node:path';

export interface VersionedPage {
  html: string;
  etag: string;
}

/**
 * An HTML file of public/ whose asset links carry a content version (`?v=`), so
 * the assets can be cached as immutable while the page revalidates. Rebuilt when
 * the page or one of its assets changes on disk (a rebuild, or a deploy in place).
 */
export function createVersionedPage(publicDir: string, htmlFile: string, assets: string[]): () => VersionedPage {
  const dir = path.resolve(publicDir);
  let page: (VersionedPage & { stamp: string }) | null = null;
  return () => {
    const files = [htmlFile, ...assets].map((f) => path.join(dir, f));
    const stamp = files.map((f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0).join(':');
    if (page?.stamp === stamp) return page;
    let html = fs.readFileSync(path.join(dir, htmlFile), 'utf8');
    for (const asset of assets) {
      const file = path.join(dir, asset);
      if (!fs.existsSync(file)) continue;
      const version = sha256(fs.readFileSync(file)).toString('hex').slice(0, 12);
      html = html.split(`"${asset}"`).join(`"${asset}?v=${version}"`);
    }
    page = { html, etag: `"${sha256(html).toString('hex').slice(0, 27)}"`, stamp };
    return page;
  };
}
