/**
 * Where `--otlp URL` sends spans. Apart from the SDK (src/observability/tracing-sdk.ts), which loads only
 * when a run traces: checking the flag must not cost every CLI start the SDK's ~150 ms import.
 */

/** `http://host:4318` means OTLP/HTTP's default traces path, `/v1/traces`; any other path is used as given. */
export function otlpTracesUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  return u.toString();
}
