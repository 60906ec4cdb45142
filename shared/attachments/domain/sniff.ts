import { ALLOWED_TYPES, type AllowedType } from "./attachment.js";

/**
 * An attachment's type, told by its first bytes with file-type (the magic numbers of some
 * hundred formats, maintained), never by the client's word or the file's name: a program named
 * `screenshot.png` is a program. Plain text and logs have no magic number: bytes that file-type
 * does not know, that are valid UTF-8 and hold no NUL or other control character than tab, line
 * feed, carriage return and form feed, are text. Anything else is no allowed type.
 */

/** How many first bytes to look at: what file-type needs for its formats (ZIP-based ones included). */
export const SNIFF_BYTES = 4100;

const ALLOWED: ReadonlySet<string> = new Set(ALLOWED_TYPES);
/** HEIC and HEIF are one family: file-type tells them by their brand. */
const AS: Record<string, AllowedType> = { "image/heic-sequence": "image/heic", "image/heif-sequence": "image/heif" };

/** The allowed type of these first bytes (at most SNIFF_BYTES of the file), or null. */
export async function sniffType(head: Uint8Array, complete: boolean): Promise<AllowedType | null> {
  if (head.length === 0) return null;
  // Loaded on the first file rather than with the host: file-type and its readers are a
  // twentieth of what the local host loads before its first request, and most never see a file.
  const { fileTypeFromBuffer } = await import("file-type");
  const found = await fileTypeFromBuffer(head);
  if (found) {
    const mime = AS[found.mime] ?? found.mime;
    return ALLOWED.has(mime) ? (mime as AllowedType) : null;
  }
  return isText(head, complete) ? "text/plain" : null;
}

/** Valid UTF-8 with no control characters but tab, LF, FF and CR; a character cut at the end of an incomplete head is fine. */
function isText(bytes: Uint8Array, complete: boolean): boolean {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(complete ? bytes : trimPartial(bytes));
  } catch {
    return false;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f) return false;
  }
  return true;
}

/** The bytes without a UTF-8 sequence the cut of the head split (up to 3 continuation bytes). */
function trimPartial(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (length > back) end -= back; // the sequence starting here is cut: leave it out
    break;
  }
  return bytes.subarray(0, end);
}
