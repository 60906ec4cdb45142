import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sniffType } from "../../shared/attachments/domain/sniff.js";

/** An attachment's type from its first bytes (sniff.ts), whatever its name or declared type. */
const hex = (h: string) => Buffer.from(h.replace(/\s/g, ""), "hex");
const PNG = hex("89504e470d0a1a0a 0000000d49484452 0000000100000001 0806000000 1f15c489");
const JPEG = hex("ffd8ffe000104a46494600010100000100010000");
const PDF = Buffer.from("%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n");
const ZIP = hex("504b0304 1400 0000 0800 0000 0000 00000000 00000000 00000000 0100 0000 61");
// An ISO BMFF box 'ftyp' with the HEIC brand: what an iPhone screenshot starts with.
const HEIC = hex("00000018 66747970 68656963 00000000 6d696631 68656963");
const EXE = Buffer.concat([hex("4d5a90000300000004000000ffff0000"), Buffer.alloc(64)]);
const ELF = Buffer.concat([hex("7f454c46020101000000000000000000"), Buffer.alloc(48)]);

describe("an attachment's type, from its first bytes", () => {
  it("tells the allowed images, PDF, zip and plain text", async () => {
    expect(await sniffType(PNG, true)).toBe("image/png");
    expect(await sniffType(JPEG, true)).toBe("image/jpeg");
    expect(await sniffType(PDF, true)).toBe("application/pdf");
    expect(await sniffType(ZIP, true)).toBe("application/zip");
    expect(await sniffType(HEIC, true)).toBe("image/heic");
    expect(await sniffType(Buffer.from("2026-12-01T10:00:00Z ERROR payment failed\n\tat Checkout (app.js:12)\r\n"), true)).toBe(
      "text/plain",
    );
    expect(await sniffType(Buffer.from("Zürich, 東京 — ünïcödé log line\n"), true)).toBe("text/plain");
  });

  it("refuses a program, whatever it is called, and bytes that are neither a known type nor text", async () => {
    expect(await sniffType(EXE, true)).toBeNull();
    expect(await sniffType(ELF, true)).toBeNull();
    expect(await sniffType(Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04]), true)).toBeNull();
    expect(await sniffType(Buffer.from("text with a NUL\u0000inside"), true)).toBeNull();
    expect(await sniffType(hex("c328"), true)).toBeNull(); // not UTF-8
    expect(await sniffType(Buffer.alloc(0), true)).toBeNull();
  });

  it("reads a text head cut inside a character as text, but not a whole file that ends so", async () => {
    const cut = Buffer.from("é log").subarray(0, 1); // the first byte of a two-byte character
    const head = Buffer.concat([Buffer.from("line\n"), cut]);
    expect(await sniffType(head, false)).toBe("text/plain");
    expect(await sniffType(head, true)).toBeNull();
  });

  it("ignores what a compressed stream looks like inside: deflate bytes alone are no zip", async () => {
    expect(await sniffType(deflateRawSync(Buffer.from("hello")), true)).toBeNull();
  });
});
