import { parseArgs } from "node:util";
import { ROLES, type Role } from "../kernel/principal.js";
import { signDevToken, type DevUser } from "./dev-issuer.js";
import { loadLocalConfig } from "./local-config.js";

/**
 * `npm run token -- --name "Jane Doe" --email jane.doe@example.com --role agent`
 * prints a token from the development issuer, and nothing else, so that
 * TOKEN=$(npm run -s token -- ...) works. Every option has a default, so that
 * `npm run token -- --role admin` is enough. Refuses to run inside Azure.
 */
const USAGE = `usage: npm run token -- [--role requester|agent|admin] [--name NAME] [--email EMAIL] [--id ID] [--hours 12]

Prints a token from the local development issuer (its key is under LOCAL_DIR, default .local/).
  --role   requester (default), agent or admin
  --name   default: from the email, or "Local Requester" / "Local Agent" / "Local Admin"
  --email  default: from the name, e.g. "Jane Doe" → jane.doe@example.com
  --id     the caller id (default: derived from the email, so one email is one caller)
  --hours  lifetime (default 12)`;

function refuse(why: string): never {
  console.error(`${why}\n\n${USAGE}`);
  process.exit(2);
}

function parsed() {
  try {
    return parseArgs({
      options: {
        name: { type: "string" },
        email: { type: "string" },
        role: { type: "string", default: "requester" },
        id: { type: "string" },
        hours: { type: "string", default: "12" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    // parseArgs throws on an unknown option or a missing value: say which, and how it is used.
    return refuse((e as Error).message);
  }
}

/** "jane.doe@example.com" → "jane.doe"; "Jane Doe" → "jane.doe@example.com". */
const nameFrom = (email: string) => email.split("@")[0] || email;
const emailFrom = (name: string) =>
  `${
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, ".")
      .replace(/^\.|\.$/g, "") || "local"
  }@example.com`;

const values = parsed();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const role = values.role as Role;
if (!ROLES.includes(role)) refuse(`--role must be one of ${ROLES.join(", ")}, not "${values.role}"`);
const hours = Number(values.hours);
if (!(hours > 0)) refuse(`--hours must be a positive number, not "${values.hours}"`);
const name = values.name ?? (values.email ? nameFrom(values.email) : `Local ${role[0]!.toUpperCase()}${role.slice(1)}`);
const user: DevUser = { name, email: values.email ?? emailFrom(name), role, id: values.id, lifetimeSeconds: Math.round(hours * 3600) };

try {
  process.stdout.write(`${await signDevToken(loadLocalConfig().dir, user)}\n`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
