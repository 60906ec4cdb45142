import * as z from "zod";
import { givenSettings, parseSettings } from "../app/config.js";

/** Settings only the local host reads (npm start, npm run token, npm run demo); Azure never does. */
const localSchema = z.object({
  /** Local host port (0: any free one). */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  /** Where the local host keeps its development signing key and the embedded store's data. */
  LOCAL_DIR: z.string().min(1).default(".local"),
  /**
   * The embedded Cosmos DB endpoint's data: "file" keeps it in LOCAL_DIR across restarts;
   * "memory" keeps nothing (every start is empty, nothing is read or written).
   */
  LOCAL_STORE: z.enum(["file", "memory"]).default("file"),
});

export interface LocalConfig {
  port: number;
  dir: string;
  /** Whether the embedded store is kept in `dir` (see LOCAL_STORE). Every host says which: tests and the demo say "memory". */
  store: "file" | "memory";
}

export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const { PORT, LOCAL_DIR, LOCAL_STORE } = parseSettings(localSchema, givenSettings(env));
  return { port: PORT, dir: LOCAL_DIR, store: LOCAL_STORE };
}
