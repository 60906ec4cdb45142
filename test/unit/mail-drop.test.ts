import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mailDrop } from "../../shared/local/mail-drop.js";
import { outgoingEmail } from "../support/notification-fixtures.js";

let dir: string;
let lines: string[];
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "mail-drop-")), "mail");
  lines = [];
});
afterEach(() => rm(join(dir, ".."), { recursive: true, force: true }));

const drop = () => mailDrop({ dir, log: (line) => lines.push(line) });

const email = outgoingEmail;

/** Just enough of RFC 5322, 2045 and 2047 to read the message back: unfolded headers, encoded words, a quoted-printable body. */
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  expect(split).toBeGreaterThan(0);
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, " ")
    .split("\r\n")) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get("content-transfer-encoding") === "quoted-printable") body = quotedPrintable(body.replace(/=\r\n/g, ""));
  return { headers, text: body.replace(/\r\n/g, "\n") };
}

const quotedPrintable = (s: string) =>
  Buffer.from(
    s.replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    "latin1",
  ).toString("utf8");

/** RFC 2047 encoded words (=?UTF-8?Q?...?= or =?UTF-8?B?...?=), the space between two of them dropped. */
const decodeWords = (value: string) =>
  value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, how: string, text: string) =>
      how.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : quotedPrintable(text.replace(/_/g, " ")),
    );

describe("the local host's mail drop", () => {
  it("writes the email as an .eml file, and logs one line", async () => {
    const outcome = await drop().send(email());

    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(outcome).toEqual({ kind: "accepted", id: files[0] });
    expect(files[0]).toMatch(/^t-42_e-7_karen-[0-9a-f]{12}\.eml$/);
    const raw = await readFile(join(dir, files[0]!), "utf8");
    expect(raw).not.toMatch(/[^\r]\n/); // CRLF line ends, the text's own included
    const { headers, text } = parseMessage(raw);
    expect(headers.get("from")).toBe("Help desk <helpdesk@localhost>");
    expect(headers.get("to")).toBe("Karen Requester <karen@example.com>");
    expect(headers.get("subject")).toBe("[#42] Printer on fire: resolved");
    expect(headers.get("message-id")).toMatch(/^<[0-9a-f]{32}@localhost>$/);
    expect(headers.get("date")).toBeTruthy();
    expect(headers.get("mime-version")).toBe("1.0");
    expect(headers.get("content-type")).toMatch(/^text\/plain; charset=utf-8/);
    expect(text.trimEnd()).toBe("Jane Agent wrote:\n\nReplaced the fuser.\n\nhttp://localhost:7071/tickets/42");
    expect(lines).toEqual([`email to karen@example.com: "[#42] Printer on fire: resolved" written to ${join(dir, files[0]!)}`]);
  });

  it("encodes a subject, a name and a text that are not ASCII, so a mail client reads them back", async () => {
    const subject = "[#43] Réponse à votre demande ✓ — « imprimante »";
    await drop().send(email({ subject, to: { name: "Zoë Ångström", email: "zoe@example.com" }, text: "Voilà, c'est réglé. 🖨️" }));

    const [file] = await readdir(dir);
    const raw = await readFile(join(dir, file!), "utf8");
    expect(raw).toMatch(/^[\x20-\x7e\r\n\t]*$/); // the message itself is 7-bit, as RFC 5322 asks of headers
    const { headers, text } = parseMessage(raw);
    expect(headers.get("subject")).toMatch(/=\?utf-8\?/i);
    expect(decodeWords(headers.get("subject")!)).toBe(subject);
    expect(decodeWords(headers.get("to")!)).toMatch(/^"?Zoë Ångström"? <zoe@example.com>$/);
    expect(text.trimEnd()).toBe("Voilà, c'est réglé. 🖨️");
  });

  it("writes a redelivery over the same file, and two keys to two files", async () => {
    const sender = drop();
    const first = await sender.send(email());
    const again = await sender.send(email({ subject: "second try" }));
    const messageId = async (id: string) => parseMessage(await readFile(join(dir, id), "utf8")).headers.get("message-id");
    expect(again).toEqual(first);
    expect(await readdir(dir)).toHaveLength(1);
    expect(parseMessage(await readFile(join(dir, (first as { id: string }).id), "utf8")).headers.get("subject")).toBe("second try");

    // Alike once made safe, yet two emails.
    const other = await sender.send(email({ key: "t-42/e-7/karen" }));
    expect(other).not.toEqual(first);
    expect(await readdir(dir)).toHaveLength(2);
    expect(await messageId((other as { id: string }).id)).not.toBe(await messageId((first as { id: string }).id));
  });

  it("keeps a key's dots and slashes from leaving the directory or hiding the file", async () => {
    const outcome = await drop().send(email({ key: "../../etc/passwd" }));

    expect(outcome).toMatchObject({ kind: "accepted" });
    const [file] = await readdir(dir);
    expect(file).toBe((outcome as { id: string }).id);
    expect(file).toMatch(/^[^./\\][^/\\]*_etc_passwd-[0-9a-f]{12}\.eml$/);
  });

  it("says where the emails go, and takes another sender", async () => {
    const custom = mailDrop({ dir, log: (line) => lines.push(line), from: { name: "Support", address: "support@helpdesk.test" } });
    expect(custom.describe).toBe(`.eml files in ${dir}`);
    await custom.send(email());
    const [file] = await readdir(dir);
    const { headers } = parseMessage(await readFile(join(dir, file!), "utf8"));
    expect(headers.get("from")).toBe("Support <support@helpdesk.test>");
    expect(headers.get("message-id")).toMatch(/@helpdesk\.test>$/);
  });
});
