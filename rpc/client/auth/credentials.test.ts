import { AuthError } from "../../errors";
import { authConfCredentials, parseAuthConf } from "./auth-conf";
import {
  CredentialRequest,
  CredentialType,
  callbackCredentials,
  collectCredentials,
  environmentCredentials,
  staticCredentials,
} from "./credentials";

const SASL_LOGIN: CredentialRequest[] = [
  { type: CredentialType.AUTHNAME, prompt: "Username" },
  { type: CredentialType.PASSPHRASE, prompt: "Password" },
];
const context = { service: "libvirt" as const, host: "kvm1" };

describe("collecting credentials", () => {
  it("takes each answer from the first source that has it", async () => {
    const sources = [
      staticCredentials("stack config", { username: "admin" }),
      staticCredentials("environment", { username: "ignored", password: "from-env" }),
    ];
    await expect(collectCredentials(SASL_LOGIN, sources, context)).resolves.toEqual([
      "admin",
      "from-env",
    ]);
  });

  it("fails naming the credential and the source when a source answers with an empty value", async () => {
    const sources = [
      staticCredentials("stack config (virtwire:password)", { username: "admin", password: "" }),
    ];
    await expect(collectCredentials(SASL_LOGIN, sources, context)).rejects.toThrow(
      'the credential source "stack config (virtwire:password)" reported success but left the password ("Password") empty; nothing was sent to the server',
    );
  });

  it("fails when a callback returns success with an empty passphrase", async () => {
    const callback = callbackCredentials(() => ["admin", ""]);
    await expect(collectCredentials(SASL_LOGIN, [callback], context)).rejects.toThrow(
      /left the password/,
    );
    const short = callbackCredentials(() => ["admin"]);
    await expect(collectCredentials(SASL_LOGIN, [short], context)).rejects.toThrow(
      /left the password/,
    );
  });

  it("asks the next source when a callback says it cannot answer", async () => {
    const sources = [
      callbackCredentials(() => null),
      staticCredentials("env", { username: "u", password: "p" }),
    ];
    await expect(collectCredentials(SASL_LOGIN, sources, context)).resolves.toEqual(["u", "p"]);
  });

  it("lists every source asked when a credential is missing, without any value", async () => {
    const sources = [
      staticCredentials("stack config", { username: "admin", password: undefined }),
      environmentCredentials({}),
    ];
    const error = await collectCredentials(SASL_LOGIN, sources, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe(
      "no credential source could supply the password for libvirt on kvm1 (asked: stack config, environment (VIRTWIRE_USERNAME, VIRTWIRE_PASSWORD))",
    );
  });

  it("reads VIRTWIRE_USERNAME and VIRTWIRE_PASSWORD from the environment", async () => {
    const env = environmentCredentials({ VIRTWIRE_USERNAME: "u", VIRTWIRE_PASSWORD: "p" });
    await expect(collectCredentials(SASL_LOGIN, [env], context)).resolves.toEqual(["u", "p"]);
  });
});

describe("auth.conf", () => {
  const text = `
# credentials for the lab
[credentials-lab]
authname = fred
password = 123456

[credentials-other]
username = bob
password = hunter2

[auth-libvirt-kvm1]
credentials = lab

[auth-libvirt-default]
credentials = other
`;

  it("answers from the set mapped to the host", async () => {
    await expect(
      collectCredentials(SASL_LOGIN, [authConfCredentials("/x/auth.conf", text)], context),
    ).resolves.toEqual(["fred", "123456"]);
  });

  it("falls back to the service's default set, using username for the login name", async () => {
    const source = authConfCredentials("/x/auth.conf", text);
    await expect(
      collectCredentials(SASL_LOGIN, [source], { service: "libvirt", host: "elsewhere" }),
    ).resolves.toEqual(["bob", "hunter2"]);
  });

  it("reports a mapping to a missing set as a syntax error", async () => {
    const source = authConfCredentials(
      "/x/auth.conf",
      "[auth-libvirt-default]\ncredentials = nope\n",
    );
    await expect(collectCredentials(SASL_LOGIN, [source], context)).rejects.toThrow(
      /missing \[credentials-nope\] group/,
    );
  });

  it("rejects lines that are neither groups nor keys", () => {
    expect(() => parseAuthConf("[a]\nnot a key\n", "f")).toThrow(
      'f line 2: expected "[group]" or "key = value"',
    );
  });
});
