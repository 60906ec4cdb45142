import { z } from "zod";
import { givenSettings, parseSettings } from "../app/config.js";

/** Settings only the local host reads (npm start, npm run token, npm run demo); Azure never does. */
const localSchema = z.object({
  /** Local host port (0: any free one). */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  /** Where the local host keeps its development signing key. */
  LOCAL_DIR: z.string().min(1).default(".local"),
});

export interface LocalConfig {
  port: number;
  dir: string;
}

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const { PORT, LOCAL_DIR } = parseSettings(localSchema, givenSettings(env));
  return { port: PORT, dir: LOCAL_DIR };
}
