import * as d3 from 'd3';
import { D3Node } from 'd3-node';

// The project's `lib` has no DOM types (it targets Node); jsdom's elements stay opaque to the type checker.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Svg = d3.Selection<any, unknown, null, undefined>;

const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif";

/** A detached SVG document from d3-node, and its serialiser. */
// Building a jsdom document costs about half a second, so every figure borrows the same one and
// detaches its SVG once serialised.
let shared: D3Node | null = null;

export const newSvg = (width: number, height: number, title: string): { svg: Svg; serialize: () => string } => {
  const node = (shared ??= new D3Node());
  const svg = d3
    .select(node.document.body)
    .append('svg')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('role', 'img')
    .attr('aria-label', title)
    .attr('font-family', FONT)
    .attr('font-size', 12) as Svg;
  svg.append('title').text(title);
  svg.append('rect').attr('class', 'background').attr('width', width).attr('height', height).attr('fill', '#ffffff');
  // XML serialisation escapes < and > inside attribute values too (HTML serialisation does not), so a
  // name such as `<script>` never appears literally, whether the SVG is a file or inlined in HTML.
  const serialize = () => {
    const text = new node.window.XMLSerializer().serializeToString(svg.node());
    svg.remove();
    return text;
  };
  return { svg, serialize };
};

/** A name safe in file names and XML ids. */
export const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
