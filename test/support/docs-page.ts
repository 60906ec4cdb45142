/**
 * Every URL the docs page's HTML names (src, href; any attribute a browser would load),
 * resolved against the page's own URL, for the tests to fetch and to hold to one origin.
 */
export function referencesOf(html: string, pageUrl: string): URL[] {
  return [...html.matchAll(/\s(?:src|href|srcset|poster|data|action|formaction)\s*=\s*["']?([^"'\s>]+)/gi)].map(
    (m) => new URL(m[1]!, pageUrl),
  );
}

/** The media type each file's extension calls for. */
export const EXPECTED_TYPE: Record<string, string> = { js: "text/javascript", css: "text/css" };

export const extensionOf = (url: URL) => url.pathname.split(".").pop() ?? "";
