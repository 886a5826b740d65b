import { generateKeyPairSync } from "node:crypto";
import { createEccEncryptor, createEccSigner } from "../../adapters/crypto/ecc.ts";
import { createSigner } from "../../adapters/crypto/mod.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

function keyPair(namedCurve: string) {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
  return {
    publicKey: publicKey.export({ type: "spki", format: "pem" }) as string,
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    sec1: privateKey.export({ type: "sec1", format: "pem" }) as string,
    pkcs8Der: new Uint8Array(privateKey.export({ type: "pkcs8", format: "der" })),
  };
}
const p256 = keyPair("prime256v1");
const other = keyPair("prime256v1");
const p384 = keyPair("secp384r1");
const message = new TextEncoder().encode("attack at dawn");

/**
 * An independent ECIES decoder written against go-ethereum's description with WebCrypto primitives, to check
 * the byte layout of createEccEncryptor(): R ‖ iv ‖ AES-CTR ciphertext ‖ HMAC tag.
 */
async function webCryptoDecrypt(
  pkcs8: Uint8Array<ArrayBuffer>,
  curve: "P-256" | "P-384",
  data: Uint8Array<ArrayBuffer>,
  s1: Uint8Array,
  s2: Uint8Array,
): Promise<Uint8Array> {
  const [fieldBytes, hash, keyLen, hashBytes] = curve === "P-256"
    ? [32, "SHA-256", 16, 32]
    : [48, "SHA-384", 24, 48];
  const subtle = crypto.subtle;
  const priv = await subtle.importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: curve }, false, [
    "deriveBits",
  ]);
  const rLen = 1 + 2 * fieldBytes;
  const pub = await subtle.importKey(
    "raw",
    data.slice(0, rLen),
    { name: "ECDH", namedCurve: curve },
    true,
    [],
  );
  const z = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: pub }, priv, fieldBytes * 8));
  let k = new Uint8Array(0);
  for (let counter = 1; k.length < 2 * keyLen; counter++) {
    const input = new Uint8Array([0, 0, 0, counter, ...z, ...s1]);
    k = new Uint8Array([...k, ...new Uint8Array(await subtle.digest(hash, input))]);
  }
  const ke = k.slice(0, keyLen);
  const km = new Uint8Array(await subtle.digest(hash, k.slice(keyLen, 2 * keyLen)));
  const em = data.slice(rLen, data.length - hashBytes);
  const macKey = await subtle.importKey("raw", km, { name: "HMAC", hash }, false, ["sign"]);
  const mac = new Uint8Array(await subtle.sign("HMAC", macKey, new Uint8Array([...em, ...s2])));
  assertEquals(mac, data.slice(data.length - hashBytes), "HMAC tag");
  const aes = await subtle.importKey("raw", ke, "AES-CTR", false, ["decrypt"]);
  return new Uint8Array(
    await subtle.decrypt({ name: "AES-CTR", counter: em.slice(0, 16), length: 128 }, aes, em.slice(16)),
  );
}

for (
  const [curve, keys, fieldBytes, tagBytes] of [["P-256", p256, 32, 32], ["P-384", p384, 48, 48]] as const
) {
  Deno.test(`createEccEncryptor() ${curve} round-trips with the go-ethereum ECIES layout`, async () => {
    const s1 = new TextEncoder().encode("kdf-info");
    const s2 = new TextEncoder().encode("mac-info");
    const sender = createEccEncryptor({ publicKey: keys.publicKey, s1, s2 });
    const receiver = createEccEncryptor({ privateKey: keys.privateKey, s1, s2 });
    const sealed = sender.encrypt(message) as Uint8Array<ArrayBuffer>;
    assertEquals(sealed.length, 1 + 2 * fieldBytes + 16 + message.length + tagBytes);
    assertEquals(sealed[0], 4);
    assertEquals(receiver.decrypt(sealed), message);
    assertEquals(await webCryptoDecrypt(keys.pkcs8Der, curve, sealed, s1, s2), message);
  });
}

Deno.test("createEccEncryptor() seals the same message differently each time", () => {
  const ecc = createEccEncryptor({ privateKey: p256.privateKey });
  const [x, y] = [ecc.encrypt(message) as Uint8Array, ecc.encrypt(message) as Uint8Array];
  assert(x.some((byte, i) => byte !== y[i]));
});

Deno.test("createEccEncryptor() refuses another key, other shared information and a tampered message", () => {
  const sealed = createEccEncryptor({ publicKey: p256.publicKey, s1: "a", s2: "b" }).encrypt(
    message,
  ) as Uint8Array;
  assertThrows(
    () => createEccEncryptor({ privateKey: other.privateKey, s1: "a", s2: "b" }).decrypt(sealed),
    Error,
    "does not match",
  );
  assertThrows(
    () => createEccEncryptor({ privateKey: p256.privateKey, s1: "x", s2: "b" }).decrypt(sealed),
    Error,
    "does not match",
  );
  assertThrows(
    () => createEccEncryptor({ privateKey: p256.privateKey, s1: "a", s2: "x" }).decrypt(sealed),
    Error,
    "does not match",
  );
  const tampered = sealed.slice();
  tampered[80] ^= 1;
  assertThrows(
    () => createEccEncryptor({ privateKey: p256.privateKey, s1: "a", s2: "b" }).decrypt(tampered),
    Error,
  );
  assertThrows(
    () => createEccEncryptor({ privateKey: p256.privateKey }).decrypt(sealed.subarray(0, 60)),
    Error,
    "malformed",
  );
});

Deno.test("createEccEncryptor() reads SEC1 keys and refuses P-521, RSA keys and empty messages", () => {
  const fromSec1 = createEccEncryptor({ privateKey: p256.sec1 });
  assertEquals(fromSec1.decrypt(fromSec1.encrypt(message) as Uint8Array), message);
  assertThrows(() => fromSec1.encrypt(new Uint8Array(0)), RangeError, "empty");
  assertThrows(
    () => createEccEncryptor({ privateKey: keyPair("secp521r1").privateKey }),
    TypeError,
    "P-256 or P-384",
  );
  const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  });
  assertThrows(() => createEccEncryptor({ privateKey: rsa as string }), TypeError, 'not "ec"');
  assertThrows(
    () => createEccEncryptor({ publicKey: p256.publicKey }).decrypt(new Uint8Array(200)),
    TypeError,
    "no 'privateKey'",
  );
});

Deno.test("createEccSigner() writes due's decimal 'r s' text and verifies it", async () => {
  const signer = createEccSigner({ privateKey: p256.privateKey });
  const signature = signer.sign(message) as Uint8Array;
  const text = new TextDecoder().decode(signature);
  assert(/^[0-9]+ [0-9]+$/.test(text), text);
  assertEquals(signer.verify(message, signature), true);
  // Check the text independently: r and s as 32-byte big-endian numbers form a WebCrypto ECDSA signature.
  const [r, s] = text.split(" ").map((n) => BigInt(n).toString(16).padStart(64, "0"));
  const raw = new Uint8Array((r + s).match(/../g)!.map((h) => parseInt(h, 16)));
  const pub = await crypto.subtle.importKey(
    "spki",
    new Uint8Array(
      atob(p256.publicKey.replace(/-----[^-]+-----|\s/g, "")).split("").map((c) => c.charCodeAt(0)),
    ),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  assertEquals(await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, raw, message), true);
});

Deno.test("createEccSigner() rejects another key, changed data and malformed signatures", () => {
  const signer = createEccSigner({ privateKey: p256.privateKey, delimiter: "|", hash: "SHA384" });
  const signature = signer.sign(message) as Uint8Array;
  assert(new TextDecoder().decode(signature).includes("|"));
  assertEquals(
    createEccSigner({ publicKey: other.publicKey, delimiter: "|", hash: "SHA384" }).verify(
      message,
      signature,
    ),
    false,
  );
  assertEquals(signer.verify(message.subarray(1), signature), false);
  for (const bad of ["", "12", "1|x", "|", "1 2", `${"9".repeat(100)}|1`]) {
    assertEquals(signer.verify(message, new TextEncoder().encode(bad)), false, bad);
  }
});

for (const format of ["der", "p1363"] as const) {
  Deno.test(`createEccSigner() ${format} format round-trips on P-384`, () => {
    const signer = createEccSigner({ privateKey: p384.privateKey, format });
    const signature = signer.sign(message) as Uint8Array;
    if (format === "p1363") assertEquals(signature.length, 96);
    else assertEquals(signature[0], 0x30);
    assertEquals(createEccSigner({ publicKey: p384.publicKey, format }).verify(message, signature), true);
    assertEquals(
      createEccSigner({ publicKey: p384.publicKey, format }).verify(message.subarray(2), signature),
      false,
    );
  });
}

Deno.test("createSigner() loads the ecc driver by name", async () => {
  const signer = await createSigner("ecc", { privateKey: p256.privateKey });
  assertEquals(signer.name, "ecc");
  assertEquals(await signer.verify(message, await signer.sign(message)), true);
});
