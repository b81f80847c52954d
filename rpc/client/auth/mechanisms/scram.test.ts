import { AuthError } from "../../../errors";
import { PlainMechanism } from "./plain";
import { ScramMechanism } from "./scram";

const b = (text: string) => Buffer.from(text, "utf8");
/** SCRAM-SHA-256 for the RFC 7677 example user, with a fixed client nonce. */
const scramSha256 = (nonce: string, password = "pencil") =>
  new ScramMechanism("SCRAM-SHA-256", { authname: "user", password, nonce });

describe("SCRAM-SHA-256", () => {
  // RFC 7677 §3, the published example exchange.
  const serverFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

  it("produces the RFC 7677 example messages and accepts the server's signature", () => {
    const scram = scramSha256("rOprNGfwEbeRWgbNEkqO");
    expect(scram.start().toString()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    expect(scram.step(b(serverFirst))!.toString()).toBe(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    expect(scram.complete).toBe(false);
    expect(scram.step(b("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))).toBeNull();
    expect(scram.complete).toBe(true);
  });

  it("refuses a server signature that does not match the password", () => {
    const scram = scramSha256("rOprNGfwEbeRWgbNEkqO", "wrong");
    scram.start();
    scram.step(b(serverFirst));
    expect(() => scram.step(b("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))).toThrow(
      /signature is wrong/,
    );
    expect(scram.complete).toBe(false);
  });

  it("refuses a server nonce that does not extend the client's", () => {
    const scram = scramSha256("abc");
    scram.start();
    expect(() => scram.step(b("r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))).toThrow(AuthError);
  });

  it("refuses a weak iteration count", () => {
    const scram = scramSha256("abc");
    scram.start();
    expect(() => scram.step(b("r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1"))).toThrow(/at least 4096/);
  });

  it("reports the server's error attribute", () => {
    const scram = scramSha256("abc");
    scram.start();
    scram.step(b("r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    expect(() => scram.step(b("e=invalid-proof"))).toThrow(/refused the login \(invalid-proof\)/);
  });

  it("escapes = and , in the user name", () => {
    const scram = new ScramMechanism("SCRAM-SHA-256", {
      authname: "a=b,c",
      password: "p",
      nonce: "n",
    });
    expect(scram.start().toString()).toBe("n,,n=a=3Db=2Cc,r=n");
  });

  it("never puts the password in an error message", () => {
    const scram = scramSha256("abc", "s3cret-pass");
    scram.start();
    for (const bad of ["garbage", "r=zzz,s=AA==,i=4096", "r=abcd,s=AA==,i=2"]) {
      try {
        scram.step(b(bad));
      } catch (error) {
        expect((error as Error).message).not.toContain("s3cret-pass");
      }
    }
  });
});

describe("SCRAM-SHA-1", () => {
  it("produces the RFC 5802 example messages", () => {
    const scram = new ScramMechanism("SCRAM-SHA-1", {
      authname: "user",
      password: "pencil",
      nonce: "fyko+d2lbbFgONRv9qkxdawL",
    });
    expect(scram.start().toString()).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    const final = scram.step(
      b("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
    );
    expect(final!.toString()).toBe(
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    scram.step(b("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="));
    expect(scram.complete).toBe(true);
  });
});

describe("PLAIN", () => {
  it("sends authzid, authcid and password separated by NUL bytes", () => {
    const plain = new PlainMechanism({ authname: "tim", password: "tanstaaftanstaaf" });
    expect(plain.start()).toEqual(Buffer.from("\0tim\0tanstaaftanstaaf"));
    expect(plain.complete).toBe(true);
  });
});
