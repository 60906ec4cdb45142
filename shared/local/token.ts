import { parseArgs } from "node:util";
import { signDevToken } from "./dev-issuer.js";
import { loadLocalConfig } from "./local-config.js";

/**
 * `npm run token -- --name "Jane Doe" --email jane.doe@example.com --role agent`
 * prints a token from the development issuer, and nothing else, so that
 * TOKEN=$(npm run -s token -- ...) works. Refuses to run inside Azure.
 */
const { values } = parseArgs({
  options: {
    name: { type: "string" },
    email: { type: "string" },
    role: { type: "string" },
    id: { type: "string" },
    hours: { type: "string", default: "12" },
  },
});

const role = values.role ?? "requester";
if (!values.name || !values.email || !["agent", "admin", "requester"].includes(role)) {
  console.error('usage: npm run token -- --name "Jane Doe" --email jane.doe@example.com [--role agent|admin] [--id ID] [--hours 12]');
  process.exit(2);
}

try {
  const token = await signDevToken(loadLocalConfig().dir, {
    name: values.name,
    email: values.email,
    role: role as "agent" | "admin" | "requester",
    id: values.id,
    lifetimeSeconds: Math.round(Number(values.hours) * 3600),
  });
  process.stdout.write(`${token}\n`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
