import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/**
 * `npm start`'s entry point (shared/local/main.ts) in a child process, as a developer runs
 * it: its own PORT (0: any free one) and LOCAL_DIR, stopped by a signal. For what only a
 * real process shows: what it prints, how it exits, what it leaves on disk.
 */
export interface LocalProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the output matches `pattern` (15 s at most, or the process exits first: rejects). */
  until(pattern: RegExp): Promise<void>;
  /** The API's base URL, once the banner is out. */
  url(): Promise<string>;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startLocalProcess(env: Record<string, string>): LocalProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "shared/local/main.ts"], {
    env: { ...process.env, PORT: "0", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return;
        stop();
        resolve();
      };
      const fail = (why: string) => () => {
        stop();
        reject(new Error(`${why} before printing ${String(pattern)}:\n${out}`));
      };
      const gone = fail("the process exited");
      const deadline = setTimeout(fail("15 s passed"), 15_000);
      const stop = () => {
        clearTimeout(deadline);
        child.stdout.off("data", check);
        child.stderr.off("data", check);
        child.off("exit", gone);
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      child.once("exit", gone);
      check();
    });
  return {
    child,
    output: () => out,
    until,
    url: async () => {
      await until(/CORS: /); // the banner's last line
      return /on (http:\/\/\S+)/.exec(out)![1]!;
    },
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}
