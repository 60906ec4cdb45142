/**
 * What the scripts (`npm run demo -- --url ...`) are given as the API's address, and what
 * they say when it does not answer: a developer types the host's address
 * (http://localhost:7300) as often as the API's (…/api), so both mean the API.
 */
export function apiBaseUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new Error(`"${given}" is not a URL (e.g. http://localhost:7071)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`"${given}" is not an http(s) URL (e.g. http://localhost:7071)`);
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path.endsWith("/api") ? path : `${path}/api`}`;
}

/**
 * One line for a request that got no answer at all: fetch's own error is "fetch failed",
 * with the reason (ECONNREFUSED, ENOTFOUND...) in its cause and a stack nobody needs.
 * Null when `error` is something else.
 */
export function unreachable(error: unknown, url: string): string | null {
  if (!(error instanceof TypeError) || error.message !== "fetch failed") return null;
  const cause = error.cause as { code?: string; errors?: { code?: string }[] } | undefined;
  // Node's happy eyeballs gives an AggregateError (one per address tried) without a code of its own.
  const code = cause?.code ?? cause?.errors?.[0]?.code ?? "no answer";
  return `Nothing answers at ${url} (${code}).`;
}
