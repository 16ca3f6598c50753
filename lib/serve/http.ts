/** Writing responses: every one with the security headers, a length, and no body for HEAD. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './headers.js';

export const send = (
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Readonly<Record<string, string>> = {},
): void => {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': type, 'Content-Length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
};

export const sendText = (req: IncomingMessage, res: ServerResponse, status: number, message: string, extra: Readonly<Record<string, string>> = {}): void =>
  send(req, res, status, 'text/plain; charset=utf-8', `${message}\n`, extra);

/**
 * The Host names a page on this machine may use to reach a loopback server. Anything else is a page of
 * another site whose name was made to point here (DNS rebinding): it is refused, so that no other site can
 * read the runs through a visitor's browser.
 */
export const loopbackHosts = (port: number): ReadonlySet<string> => new Set(['127.0.0.1', 'localhost', '[::1]'].map((h) => `${h}:${port}`));
