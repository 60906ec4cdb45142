import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { EmailOutcome, EmailSender, OutgoingEmail } from "../notifications/ports.js";
import { replaceFile } from "./atomic-file.js";

/**
 * The local host's requester emails when no EMAIL_ENDPOINT is set: each one an RFC 5322 message
 * (.eml, which any mail client opens) in `dir`, and one line in the log. Built by nodemailer's
 * MailComposer, so the headers are encoded as a real one would be (a non-ASCII subject as an
 * RFC 2047 encoded word, long lines folded).
 *
 * The file is named by the email's key, as its Message-ID is: a redelivery of the same email
 * replaces its file instead of adding one, as Communication Services keeps one operation per
 * Operation-Id. It is written whole or not at all (replaceFile), so a stop mid-write leaves no
 * half message for a mail client to choke on.
 */
export interface MailDropOptions {
  dir: string;
  log: (line: string) => void;
  /** Who the emails come from (default "Help desk" <helpdesk@localhost>). */
  from?: { name: string; address: string };
}

const DEFAULT_FROM = { name: "Help desk", address: "helpdesk@localhost" };

export function mailDrop({ dir, log, from = DEFAULT_FROM }: MailDropOptions): EmailSender {
  return {
    describe: `.eml files in ${dir}`,
    announces: true,
    async send(email: OutgoingEmail): Promise<EmailOutcome> {
      const digest = createHash("sha256").update(email.key, "utf8").digest("hex");
      // Loaded at the first email, not with the host: a cold start pays nothing for it.
      const { default: MailComposer } = await import("nodemailer/lib/mail-composer/index.js");
      const message = await new MailComposer({
        from,
        to: { name: email.to.name, address: email.to.email },
        subject: email.subject,
        text: email.text,
        messageId: `<${digest.slice(0, 32)}@${from.address.split("@").pop()}>`,
        // RFC 5322's line ends throughout: the text's own "\n" are otherwise kept as they are.
        newline: "win",
      })
        .compile()
        .build();
      const name = fileNameOf(email.key, digest);
      const path = join(dir, name);
      await mkdir(dir, { recursive: true });
      await replaceFile(path, message);
      log(`email to ${email.to.email}: ${JSON.stringify(email.subject)} written to ${path}`);
      return { kind: "accepted", id: name };
    },
  };
}

/**
 * The key as a file name any file system takes: readable (its letters, digits, dots and dashes,
 * the rest as "_", no leading dot), and a part of its hash so two keys that read alike once
 * made safe ("a:b", "a/b") still get two files.
 */
function fileNameOf(key: string, digest: string): string {
  const readable = key
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^\.+/, "_")
    .slice(0, 100);
  return `${readable}-${digest.slice(0, 12)}.eml`;
}
