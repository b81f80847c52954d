import { SshPrivateKey, parsedKey, readSshPrivateKey } from "./ssh-key";
import { generateSshKeyPair } from "../../test/support/ssh-keys";

const plain = generateSshKeyPair().private;
const encrypted = generateSshKeyPair("ed25519", { passphrase: "pw" }).private;

describe("readSshPrivateKey", () => {
  it("reads a key once, into something the SSH transport uses as it is", () => {
    const key = readSshPrivateKey(plain);
    expect(key).toBeInstanceOf(SshPrivateKey);
    expect(parsedKey(key as SshPrivateKey).isPrivateKey()).toBe(true);
    expect(readSshPrivateKey(encrypted, "pw")).toBeInstanceOf(SshPrivateKey);
  });

  it("says when a passphrase is missing or wrong", () => {
    expect(readSshPrivateKey(encrypted)).toMatchObject({ passphrase: true });
    expect(readSshPrivateKey(encrypted, "wrong")).toMatchObject({ passphrase: true });
  });

  it("says what is wrong with text that is no private key", () => {
    const publicKey = generateSshKeyPair().public;
    expect(readSshPrivateKey(publicKey)).toEqual({
      problem: "it is not a private key",
      passphrase: false,
    });
    expect(readSshPrivateKey("garbage")).toMatchObject({ passphrase: false });
  });

  it("takes no object for a key that was not read by it", () => {
    expect(() => parsedKey({} as SshPrivateKey)).toThrow(TypeError);
  });
});
