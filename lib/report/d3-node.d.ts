// d3-node ships no type declarations; this declares the part optbench uses. The DOM types are not in
// this project's `lib` (it targets Node), so jsdom's objects are typed only as far as they are used.
declare module 'd3-node' {
  export class D3Node {
    constructor(options?: { container?: string; selector?: string; styles?: string });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly document: { readonly body: any };
    readonly window: { readonly XMLSerializer: new () => { serializeToString(node: unknown): string } };
  }
}
