import { X509Certificate, generateKeyPairSync, randomBytes, sign } from "node:crypto";

/**
 * A self-signed certificate for 127.0.0.1 (EC P-256, ECDSA with SHA-256, valid a day), made
 * with Node's crypto alone: no openssl binary, no key committed to the repository. The HTTPS
 * Azurite of the tests serves it; their clients trust it as their only extra CA.
 */
export function selfSignedCert(now = new Date()): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = seq(set(seq(oid("2.5.4.3"), der(0x0c, Buffer.from("127.0.0.1")))));
  const ecdsaWithSha256 = seq(oid("1.2.840.10045.4.3.2"));
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))), // version 3
    integer(randomBytes(8)),
    ecdsaWithSha256,
    name,
    seq(utcTime(new Date(now.getTime() - 60 * 60_000)), utcTime(new Date(now.getTime() + 24 * 60 * 60_000))),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    der(
      0xa3,
      seq(
        // basicConstraints (critical): CA, so that it may be its own trust anchor.
        seq(oid("2.5.29.19"), der(0x01, Buffer.from([0xff])), der(0x04, seq(der(0x01, Buffer.from([0xff]))))),
        // subjectAltName: iPAddress 127.0.0.1.
        seq(oid("2.5.29.17"), der(0x04, seq(der(0x87, Buffer.from([127, 0, 0, 1]))))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, { key: privateKey, dsaEncoding: "der" });
  const certificate = seq(tbs, ecdsaWithSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const cert = `-----BEGIN CERTIFICATE-----\n${certificate
    .toString("base64")
    .replace(/.{64}/g, "$&\n")
    .replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
  if (!new X509Certificate(cert).checkIP("127.0.0.1")) throw new Error("the test certificate does not name 127.0.0.1");
  return { cert, key: privateKey.export({ type: "pkcs8", format: "pem" }) as string };
}

// DER, as much of it as a certificate needs.
function der(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : lengthBytes(n);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
function lengthBytes(n: number): Buffer {
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const seq = (...parts: Buffer[]) => der(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => der(0x31, Buffer.concat(parts));
const integer = (bytes: Buffer) => der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const base128 = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v % 128) | 0x80);
    bytes.push(...base128);
  }
  return der(0x06, Buffer.from(bytes));
}
function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z"; // YYMMDDHHMMSSZ
  return der(0x17, Buffer.from(text));
}
