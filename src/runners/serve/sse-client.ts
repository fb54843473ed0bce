/**
 * A minimal Server-Sent Events reader over `fetch` (Node 20 has no `EventSource`): the `data` of each
 * message, parsed as JSON. Used by the serve benchmark (bench/serve.ts) and the API tests to watch
 * `GET /events/stream` as a browser would.
 */
export interface SseClient {
  /** Resolves when the response headers arrived (the stream is open). */
  readonly opened: Promise<void>;
  /** Resolves when the stream ended (closed by either side). */
  readonly ended: Promise<void>;
  close(): void;
}

export function openSseClient(url: string, onMessage: (data: unknown, receivedAt: number) => void): SseClient {
  const abort = new AbortController();
  let markOpen: () => void = () => {};
  let fail: (err: unknown) => void = () => {};
  const opened = new Promise<void>((resolve, reject) => {
    markOpen = resolve;
    fail = reject;
  });
  const ended = (async () => {
    try {
      const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
      if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status}`);
      markOpen();
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).replace(/^ /, ''))
            .join('\n');
          if (data) onMessage(JSON.parse(data), Date.now());
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) fail(err);
    }
  })();
  // An unopened client that is closed just ends; nobody need await `opened` then.
  opened.catch(() => {});
  return { opened, ended, close: () => abort.abort() };
}
