import { execFile, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";

/** A port nothing listens on right now: the system picks one, which is released at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(true));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(false)));
  });
}

/** Every process below `pid`, from `ps` (what npm starts: a shell, or node itself when the script execs it). */
export async function descendants(pid: number): Promise<number[]> {
  const { stdout } = await promisify(execFile)("ps", ["-A", "-o", "pid=,ppid="]);
  const children = new Map<number, number[]>();
  for (const line of stdout.trim().split("\n")) {
    const [child, parent] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const below = (p: number): number[] => (children.get(p) ?? []).flatMap((c) => [c, ...below(c)]);
  return below(pid);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once what the process printed on `stream` matches `pattern`; rejects if it exits first, or after `ms`. */
export function printed(child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp, ms = 30_000): Promise<string> {
  const source = child[stream]!;
  let text = "";
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(deadline);
      source.off("data", check);
      child.off("exit", gone);
      if (error) reject(error);
      else resolve(text);
    };
    const check = (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) done();
    };
    const gone = () => done(new Error(`the process exited before printing ${String(pattern)}:\n${text}`));
    const deadline = setTimeout(() => done(new Error(`${ms} ms passed before the process printed ${String(pattern)}:\n${text}`)), ms);
    source.on("data", check);
    child.once("exit", gone);
  });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}
