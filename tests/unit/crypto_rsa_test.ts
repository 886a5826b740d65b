import { generateKeyPairSync } from "node:crypto";
import { createRsaEncryptor, createRsaSigner } from "../../adapters/crypto/rsa.ts";
import { createEncryptor } from "../../adapters/crypto/mod.ts";
import { assert, assertEquals, assertNotEquals, assertThrows } from "../_helpers/assert.ts";

function keyPair(bits = 1024) {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return {
    publicKey: publicKey.export({ type: "spki", format: "pem" }) as string,
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    pkcs1: privateKey.export({ type: "pkcs1", format: "pem" }) as string,
  };
}
const a = keyPair();
const b = keyPair();
const big = keyPair(2048);
const text = new TextEncoder().encode("the quick brown fox jumps over the lazy dog ".repeat(20)); // 880 bytes

for (const padding of ["NORMAL", "OAEP"] as const) {
  Deno.test(`createRsaEncryptor() ${padding} round-trips a message longer than one block`, () => {
    const sender = createRsaEncryptor({ publicKey: a.publicKey, padding });
    const receiver = createRsaEncryptor({ privateKey: a.privateKey, padding });
    const sealed = sender.encrypt(text) as Uint8Array;
    const block = padding === "OAEP" ? 128 - 2 * 32 - 2 : 128 - 11;
    assertEquals(sealed.length, Math.ceil(text.length / block) * 128);
    assertEquals(receiver.decrypt(sealed), text);
  });

  Deno.test(`createRsaEncryptor() ${padding} does not decrypt with another key`, () => {
    const sealed = createRsaEncryptor({ publicKey: a.publicKey, padding }).encrypt(text) as Uint8Array;
    const wrong = createRsaEncryptor({ privateKey: b.privateKey, padding });
    if (padding === "OAEP") {
      // OAEP checks its padding: a wrong key always fails.
      assertThrows(() => wrong.decrypt(sealed), Error, "Cannot decrypt with rsa encryptor: block 0");
      return;
    }
    let opened: Uint8Array | undefined;
    try {
      opened = wrong.decrypt(sealed) as Uint8Array;
    } catch (err) {
      assert((err as Error).message.startsWith("Cannot decrypt with rsa encryptor"));
    }
    // OpenSSL's implicit rejection may return random bytes for PKCS#1 v1.5 instead of failing.
    if (opened) assertNotEquals(opened, text);
  });
}

Deno.test("createRsaEncryptor() cuts the plaintext into blockSize blocks", () => {
  const rsa = createRsaEncryptor({ privateKey: a.privateKey, blockSize: 10 });
  const sealed = rsa.encrypt(new Uint8Array(25).fill(7)) as Uint8Array;
  assertEquals(sealed.length, 3 * 128);
  assertEquals(rsa.decrypt(sealed), new Uint8Array(25).fill(7));
  assertEquals((rsa.encrypt(new Uint8Array(0)) as Uint8Array).length, 0);
});

Deno.test("createRsaEncryptor() OAEP refuses a ciphertext sealed with another label", () => {
  const sealed = createRsaEncryptor({ publicKey: a.publicKey, padding: "OAEP", label: "gate" }).encrypt(
    text,
  ) as Uint8Array;
  assertEquals(
    createRsaEncryptor({ privateKey: a.privateKey, padding: "OAEP", label: "gate" }).decrypt(sealed),
    text,
  );
  assertThrows(() =>
    createRsaEncryptor({ privateKey: a.privateKey, padding: "OAEP", label: "node" }).decrypt(sealed)
  );
});

Deno.test("createRsaEncryptor() reads PKCS#1 keys and keys from files", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/key.pem`, a.pkcs1);
    Deno.writeTextFileSync(`${dir}/key.pub.pem`, a.publicKey);
    const sealed = createRsaEncryptor({ publicKey: `${dir}/key.pub.pem` }).encrypt(text) as Uint8Array;
    assertEquals(createRsaEncryptor({ privateKey: `${dir}/key.pem` }).decrypt(sealed), text);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("createRsaEncryptor() rejects bad options and missing keys", () => {
  assertThrows(() => createRsaEncryptor({}), TypeError, "neither 'publicKey' nor 'privateKey'");
  assertThrows(
    () => createRsaEncryptor({ publicKey: "/nonexistent/key.pem" }),
    TypeError,
    "neither a PEM key nor a readable file",
  );
  assertThrows(() => createRsaEncryptor({ publicKey: a.publicKey, blockSize: 118 }), RangeError, "[0, 117]");
  assertThrows(
    () => createRsaEncryptor({ publicKey: a.publicKey, hash: "MD5" as "SHA1" }),
    TypeError,
    "'hash'",
  );
  const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({
    type: "spki",
    format: "pem",
  });
  assertThrows(() => createRsaEncryptor({ publicKey: ec as string }), TypeError, 'not "rsa"');
  const sealOnly = createRsaEncryptor({ publicKey: a.publicKey });
  assertThrows(() => sealOnly.decrypt(new Uint8Array(128)), TypeError, "no 'privateKey'");
  assertThrows(
    () => createRsaEncryptor({ privateKey: a.privateKey }).decrypt(new Uint8Array(100)),
    RangeError,
    "multiple of 128",
  );
});

for (const padding of ["PKCS", "PSS"] as const) {
  for (const hash of ["SHA256", "SHA512"] as const) {
    Deno.test(`createRsaSigner() ${padding} ${hash} verifies its signature and rejects a wrong key or data`, () => {
      const signer = createRsaSigner({ privateKey: big.privateKey, padding, hash });
      const verifier = createRsaSigner({ publicKey: big.publicKey, padding, hash });
      const signature = signer.sign(text) as Uint8Array;
      assertEquals(signature.length, 256);
      assertEquals(verifier.verify(text, signature), true);
      const other = keyPair(2048);
      assertEquals(
        createRsaSigner({ publicKey: other.publicKey, padding, hash }).verify(text, signature),
        false,
      );
      assertEquals(verifier.verify(text.subarray(1), signature), false);
      assertEquals(verifier.verify(text, signature.subarray(1)), false);
      assertThrows(() => verifier.sign(text), TypeError, "no 'privateKey'");
    });
  }
}

Deno.test("createRsaSigner() refuses PSS with a hash too long for the key", () => {
  assertThrows(
    () => createRsaSigner({ privateKey: a.privateKey, padding: "PSS", hash: "SHA512" }),
    RangeError,
    "too small",
  );
});

Deno.test("createRsaSigner() PKCS#1 v1.5 signatures are deterministic, PSS ones are salted", () => {
  const pkcs = createRsaSigner({ privateKey: a.privateKey, padding: "PKCS" });
  const pss = createRsaSigner({ privateKey: a.privateKey, padding: "PSS" });
  assertEquals(pkcs.sign(text), pkcs.sign(text));
  assertNotEquals(pss.sign(text), pss.sign(text));
});

Deno.test("createEncryptor() loads the rsa driver by name", async () => {
  const rsa = await createEncryptor("rsa", { privateKey: a.privateKey });
  assertEquals(rsa.name, "rsa");
  assertEquals(await rsa.decrypt(await rsa.encrypt(text)), text);
});
