import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TimelineSeal } from "../../shared/tickets/timeline-seal.js";

const seal = new TimelineSeal(
  (t) => createHash("sha256").update(t).digest("hex"),
  () => randomBytes(16).toString("hex"),
);

describe("timeline seal", () => {
  it("gives each entry an id that its number cannot be guessed from without the ticket's salt", () => {
    const ids = [1, 2, 3].map((n) => seal.entryId("salt-a", n));
    expect(new Set(ids).size).toBe(3);
    expect(seal.entryId("salt-a", 2)).toBe(ids[1]); // stable: a replay shows the same id
    expect(seal.entryId("salt-b", 2)).not.toBe(ids[1]);
  });

  it("turns a cursor back into its number, and no two cursors for one number look alike", () => {
    const a = seal.cursor("salt-a", 41);
    const b = seal.cursor("salt-a", 41);
    expect(a).not.toBe(b);
    expect(seal.seqOf("salt-a", a)).toBe(41);
    expect(seal.seqOf("salt-a", b)).toBe(41);
  });

  it("refuses what is not a cursor of this ticket", () => {
    expect(seal.seqOf("salt-a", "not-a-cursor")).toBeNull();
    expect(seal.seqOf("salt-a", "MQ")).toBeNull();
    expect(seal.seqOf("salt-b", seal.cursor("salt-a", 7))).toBeNull();
    // Flipping any bit of the masked number gives no cursor at all, not the cursor of another number.
    const c = seal.cursor("salt-a", 7);
    for (let i = 12; i < 24; i++) {
      const flipped = c.slice(0, i) + (parseInt(c[i]!, 16) ^ 1).toString(16) + c.slice(i + 1);
      expect(seal.seqOf("salt-a", flipped)).toBeNull();
    }
  });
});
