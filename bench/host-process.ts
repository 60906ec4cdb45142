import type { ChildProcess } from "node:child_process";
import { exited } from "../test/support/processes.js";

/**
 * A benchmark's bundled local host in a child process: the settings it runs with (its own
 * port and LOCAL_DIR, a store in memory, rate limits out of the way: a benchmark is one
 * caller making thousands of calls), its output kept from filling the pipe, and its stop.
 */
export const benchHostEnv = (port: number, dir: string): NodeJS.ProcessEnv => ({
  ...process.env,
  PORT: String(port),
  LOCAL_DIR: dir,
  LOCAL_STORE: "memory",
  RATE_LIMIT_CALLER_POINTS: "100000000",
  RATE_LIMIT_ANONYMOUS_POINTS: "100000000",
});

/** Keeps reading what a child prints (a full pipe would stop it); returns its last lines, for an error. */
export function drainOutput(child: ChildProcess): () => string {
  let tail = "";
  const keep = (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-4000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => tail;
}

/** SIGTERM, then SIGKILL if it has not exited `graceMs` later; resolves once it has. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill("SIGTERM");
  const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(kill);
}
