import { describe, expect, it } from "vitest";
import {
  Attachment,
  fileBlobName,
  uploadBlobName,
  MALICIOUS,
  NO_THREATS,
  SCAN_RESULT_TAG,
  scanStatusOf,
  servedName,
  UploadInput,
} from "../../shared/attachments/domain/attachment.js";

/** An attachment's rules (attachments/domain/attachment.ts): what an upload may say, where its blob is, what its scan allows. */
describe("an attachment", () => {
  it("is named without a path or control characters, and says its size", () => {
    expect(UploadInput.safeParse({ fileName: "error.png", contentType: "image/png", size: 1024 }).success).toBe(true);
    for (const fileName of ["../etc/passwd", "a\\b.png", "bad\u0000.png", "..", "", " "])
      expect(UploadInput.safeParse({ fileName, contentType: "image/png", size: 1 }).success, fileName).toBe(false);
    expect(UploadInput.safeParse({ fileName: "a.png", contentType: "image/png", size: 0 }).success).toBe(false);
    expect(UploadInput.safeParse({ fileName: "a.png", contentType: "image/png", size: 1, extra: 1 }).success).toBe(false);
  });

  it("lives under uploads/ until attached, then its checked copy under files/, one per attempt", () => {
    expect(uploadBlobName({ ticketId: "t1", id: "a1" })).toBe("uploads/t1/a1");
    expect(fileBlobName({ ticketId: "t1", id: "a1" }, "c1")).toBe("files/t1/a1/c1");
  });

  it("is clean or malicious by the scanner's verdict tag, scanning while there is none, unscannable on any other verdict", () => {
    expect(scanStatusOf({})).toBe("scanning");
    expect(scanStatusOf({ [SCAN_RESULT_TAG]: NO_THREATS })).toBe("clean");
    expect(scanStatusOf({ [SCAN_RESULT_TAG]: MALICIOUS })).toBe("malicious");
    expect(scanStatusOf({ [SCAN_RESULT_TAG]: "Error" })).toBe("unscannable");
    expect(scanStatusOf({ [SCAN_RESULT_TAG]: "Not scanned" })).toBe("unscannable");
  });

  it("is served under a name with an extension of its checked type", () => {
    expect(servedName("error.png", "image/png")).toBe("error.png");
    expect(servedName("Photo.JPEG", "image/jpeg")).toBe("Photo.JPEG");
    expect(servedName("server.log", "text/plain")).toBe("server.log");
    expect(servedName("invoice.hta", "text/plain")).toBe("invoice.hta.txt");
    expect(servedName("run.ps1", "text/plain")).toBe("run.ps1.txt");
    expect(servedName("screenshot", "image/png")).toBe("screenshot.png");
    expect(servedName(".png", "image/png")).toBe(".png.png");
    expect(servedName("report.pdf.exe", "application/pdf")).toBe("report.pdf.exe.pdf");
    // Within the 255 characters a name may have, shortened by whole characters (never half a surrogate pair).
    expect(servedName(`${"a".repeat(249)}😀.hta`, "text/plain")).toBe(`${"a".repeat(249)}😀.txt`);
    expect(servedName(`${"a".repeat(250)}😀.ht`, "text/plain")).toBe(`${"a".repeat(250)}.txt`);
    for (const name of [`${"a".repeat(249)}😀.hta`, `${"a".repeat(250)}😀.ht`])
      expect(UploadInput.shape.fileName.safeParse(servedName(name, "text/plain")).success).toBe(true);
  });

  it("keeps its checked type only among the allowed ones", () => {
    const base = {
      id: "a1",
      type: "attachment",
      ticketId: "t1",
      fileName: "a.png",
      contentType: "image/png",
      size: 10,
      seq: 3,
      visibility: "public",
      uploadedBy: { id: "u", role: "requester" },
      attachedAt: "2026-01-01T00:00:00.000Z",
      blob: "files/t1/a1/c1",
    };
    expect(Attachment.safeParse(base).success).toBe(true);
    expect(Attachment.safeParse({ ...base, contentType: "application/x-msdownload" }).success).toBe(false);
  });
});
