/**
 * The settings a benchmark's bundled local host runs with: its own port and LOCAL_DIR, a store
 * in memory, and rate limits out of the way (a benchmark is one caller making thousands of calls).
 */
export const benchHostEnv = (port: number, dir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: String(port),
  LOCAL_DIR: dir,
  LOCAL_STORE: "memory",
  RATE_LIMIT_CALLER_POINTS: "100000000",
  RATE_LIMIT_ANONYMOUS_POINTS: "100000000",
});
