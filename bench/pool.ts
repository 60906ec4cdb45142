/** Runs `run(0)` … `run(count - 1)`, at most `width` at a time: a benchmark's clients. */
export async function inParallel(count: number, width: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await run(next++);
    }),
  );
}
