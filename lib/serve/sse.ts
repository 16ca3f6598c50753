/**
 * Server-sent events to the open pages: one long response each, to which every change is written as it
 * happens. A page that reads too slowly to keep up is dropped (its browser reconnects and starts from
 * the current state), so what the server buffers for its pages stays bounded.
 */
import type { ServerResponse } from 'node:http';

export interface SseHub {
  /** Takes over `res` as an event stream, and sends it `hello` first. */
  readonly add: (res: ServerResponse, hello: unknown) => boolean;
  readonly send: (event: string, data: unknown) => void;
  readonly size: () => number;
  /** Ends every stream (the pages reconnect to whatever serves next). */
  readonly close: () => void;
}

export interface SseOptions {
  /** More open pages than this are refused (503). */
  readonly maxClients: number;
  /** A page whose unsent data exceeds this is dropped. */
  readonly maxBufferedBytes: number;
  /** A comment every this often keeps proxies and idle timeouts from closing a quiet stream. */
  readonly keepAliveMs: number;
}

const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const sseHub = (opts: SseOptions, headers: Readonly<Record<string, string>>): SseHub => {
  const clients = new Set<ServerResponse>();
  const write = (res: ServerResponse, text: string): void => {
    if (res.writableLength > opts.maxBufferedBytes) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(text);
  };
  const timer = setInterval(() => clients.forEach((res) => write(res, ': keep-alive\n\n')), opts.keepAliveMs);
  timer.unref();
  return {
    add: (res, hello) => {
      if (clients.size >= opts.maxClients) return false;
      res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      // The browser reconnects a second after a stream ends.
      res.write('retry: 1000\n\n');
      res.write(frame('hello', hello));
      clients.add(res);
      res.on('close', () => clients.delete(res));
      return true;
    },
    send: (event, data) => {
      if (clients.size === 0) return;
      const text = frame(event, data);
      clients.forEach((res) => write(res, text));
    },
    size: () => clients.size,
    close: () => {
      clearInterval(timer);
      clients.forEach((res) => res.end());
      clients.clear();
    },
  };
};
