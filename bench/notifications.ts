import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../shared/app/config.js";
import { signDevToken } from "../shared/local/dev-issuer.js";
import { startHost } from "../shared/local/host.js";
import { silentRequestLog } from "../shared/local/request-log.js";
import { startEmailService } from "../test/support/email-service.js";
import { percentile } from "./stats.js";
import { apiCall } from "./api-call.js";

/**
 * Time to tell the requester on the local host: from the response of an agent's public reply to
 * the email accepted by a server that answers as Communication Services Email does, over N
 * replies (outbox write, dispatch, queue, preferences read, @azure/communication-email's send
 * and its poll of the operation, the email's record written).
 */
const N = Number(process.env.REPLIES ?? 200);

const dir = await mkdtemp(join(tmpdir(), "helpdesk-bench-"));
const mail = await startEmailService();
const host = await startHost({
  config: loadConfig({
    EMAIL_ENDPOINT: mail.url,
    EMAIL_SENDER: mail.sender,
    EMAIL_CONNECTION_STRING: mail.connectionString,
    RATE_LIMIT_CALLER_POINTS: "1000000",
  }),
  local: { port: 0, dir, store: "memory" },
  requestLog: silentRequestLog,
});
// The handler logs a line per email; what is measured is the email's arrival.
const quiet = console.log;
console.log = () => {};
try {
  const karen = await signDevToken(dir, { name: "Karen Karen", email: "karen@example.com" });
  const qa = await signDevToken(dir, { name: "Quinn QA", email: "qa@example.com", role: "agent" });
  const ticket = (await apiCall(host.url, karen, "POST", "/tickets", { subject: "Slow app", description: "Since 9:00." })).json as {
    id: string;
  };
  const latencies: number[] = [];
  /** The email accepted after the first `count`, polled every millisecond (a 10 s deadline). */
  const accepted = async (count: number) => {
    const deadline = Date.now() + 10_000;
    while (mail.accepted.length <= count) {
      if (Date.now() > deadline) throw new Error("no email within 10 s");
      await new Promise((r) => setTimeout(r, 1));
    }
    return mail.accepted[count]!;
  };
  for (let i = 0; i < N; i++) {
    const before = mail.accepted.length;
    await apiCall(host.url, qa, "POST", `/tickets/${ticket.id}/comments`, { body: `Reply ${i}`, visibility: "public" });
    const responded = Date.now();
    const email = await accepted(before);
    if (!email.plainText?.startsWith(`Reply ${i}\n`)) throw new Error(`the email is for another reply: ${email.plainText?.slice(0, 40)}`);
    // The stand-in stamps what it accepts with Date.now(): the same clock.
    latencies.push(email.at - responded);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  quiet(`time to email over ${N} public replies (reply's response → email accepted by the Communication Services stand-in):`);
  quiet(`  p50 ${pct(50).toFixed(1)} ms   p99 ${pct(99).toFixed(1)} ms   max ${latencies.at(-1)!.toFixed(1)} ms`);
  quiet(
    `  p99 / 1 s goal: ${(pct(99) / 1000).toFixed(3)}   p99 / p50: ${(pct(99) / pct(50)).toFixed(2)}   sends per email: ${(mail.sends.length / N).toFixed(2)}`,
  );
} finally {
  console.log = quiet;
  await host.close();
  await mail.close();
  await rm(dir, { recursive: true, force: true });
}
