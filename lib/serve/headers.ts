/**
 * The headers of every response. The page loads nothing but itself, /app.js and /style.css, and talks only
 * to its own server: the Content-Security-Policy says so. The figures' markup carries a few fixed style
 * attributes (the report's colour swatches and its image tiles); they are allowed by their hashes, so
 * that no other inline style, and no inline script at all, runs.
 */
import { createHash } from 'node:crypto';
import { swatchStyle } from '../report/html.js';
import { TILE_STYLE } from '../report/images.js';
import { SERIES_COLOURS } from '../report/palette.js';

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Every style attribute the report's HTML and SVG can hold. */
const STYLE_ATTRIBUTES = [TILE_STYLE, ...SERIES_COLOURS.map(swatchStyle)];

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  `style-src 'self' 'unsafe-hashes' ${STYLE_ATTRIBUTES.map(hash).join(' ')}`,
  // The VAE's images are PNGs inside the SVG, as data: URIs.
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** On every response: the policy, no sniffing, no referrer, no framing, nothing cached (everything is live). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};
