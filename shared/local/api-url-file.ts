import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Where `npm start` listens, written to LOCAL_DIR/api-url while it runs, so that a shell
 * (the README's curl block) finds the API whatever PORT it was started with, as
 * `npm run token` finds the signing key beside it.
 */
export const apiUrlFile = (dir: string): string => join(dir, "api-url");

export async function writeApiUrl(dir: string, url: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(apiUrlFile(dir), `${url}\n`);
}

/** Removed on shutdown, unless another host has written its own since. */
export async function removeApiUrl(dir: string, url: string): Promise<void> {
  const written = await readFile(apiUrlFile(dir), "utf8").catch(() => null);
  if (written?.trim() === url) await rm(apiUrlFile(dir), { force: true });
}
