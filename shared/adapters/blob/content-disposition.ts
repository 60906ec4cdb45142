/**
 * `Content-Disposition: attachment` for a file name as the user gave it (RFC 6266): a quoted
 * `filename` that every client reads, in printable ASCII only, with quotes, backslashes,
 * percent signs, path separators, control characters and lone surrogates replaced; and, when that lost
 * anything, `filename*` (RFC 5987/8187) with the whole name in UTF-8, which browsers prefer.
 * Storage answers the download with it (the SAS's `rscd`), so it must also be a valid header
 * value: no CR or LF can get in.
 */
export function attachmentDisposition(fileName: string): string {
  const name =
    fileName
      .normalize("NFC")
      .replace(/[\p{Cc}\p{Cs}/\\]/gu, "_")
      .trim() || "attachment";
  const fallback = name.replace(/[^\x20-\x7e]|["%]/g, "_");
  if (fallback === name) return `attachment; filename="${name}"`;
  return `attachment; filename="${fallback}"; filename*=UTF-8''${extValue(name)}`;
}

/** RFC 5987 attr-char: letters, digits and !#$&+-.^_`|~ stay; every other UTF-8 byte is %XX. */
function extValue(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
