/** What the page's script needs of the DOM beyond the browser's own API. */

/**
 * The element `selector` finds under `root`, which must be a `type`: the server's markup always has it, so
 * its absence is a bug, said once in the console rather than as a null dereference later.
 */
export const one = <T extends Element>(root: ParentNode, selector: string, type: abstract new () => T): T => {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`optbench serve: the page has no ${selector}`);
  return el;
};

/** HTML the server sent, parsed into nodes (a <template> parses table rows where a <div> would drop them). */
export const fragment = (html: string): DocumentFragment => {
  const t = document.createElement('template');
  t.innerHTML = html;
  return t.content;
};
