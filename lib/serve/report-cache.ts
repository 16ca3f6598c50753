/**
 * Drawn reports, kept while they are current: every open page asks for its selection's report after each
 * change, and pages that chose the same runs share one drawing. Bounded in bytes, least recently used first out.
 */
export interface ReportCache {
  /** The HTML for `key`, drawn by `draw` when it is not kept. */
  readonly get: (key: string, draw: () => string) => string;
  /** Forgets every drawing whose key starts with `prefix` (a directory's, once its runs have changed). */
  readonly drop: (prefix: string) => void;
  readonly bytes: () => number;
}

export const reportCache = (maxBytes: number): ReportCache => {
  const kept = new Map<string, string>();
  let total = 0;
  const size = (k: string, v: string) => 2 * (k.length + v.length);
  return {
    get: (key, draw) => {
      const hit = kept.get(key);
      if (hit !== undefined) {
        kept.delete(key);
        kept.set(key, hit);
        return hit;
      }
      const html = draw();
      kept.set(key, html);
      total += size(key, html);
      for (const [k, v] of kept) {
        if (total <= maxBytes || kept.size === 1) break;
        kept.delete(k);
        total -= size(k, v);
      }
      return html;
    },
    drop: (prefix) => {
      for (const [k, v] of kept)
        if (k.startsWith(prefix)) {
          kept.delete(k);
          total -= size(k, v);
        }
    },
    bytes: () => total,
  };
};
