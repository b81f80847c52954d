import { AuthError } from "../../errors";
import { ErrorCode, ErrorDomain } from "../../protocol/error-codes";
import { RemoteProcedures } from "../../protocol/remote";
import { decode, encode } from "../../xdr";
import { FakeDaemon, fakeConnection } from "../../../test/support/fake-daemon";
import { errorReply, packet } from "../../../test/support/packets";
import { Packet } from "../../protocol/packet";
import { chooseSaslMechanism, createPasswordMechanism } from "./choose";
import { ScramMechanism } from "./mechanisms/scram";
import { authenticateSasl } from "./sasl";

const { AuthSaslInit, AuthSaslStart, AuthSaslStep } = RemoteProcedures;
const saslReply = (complete: number, data: string) =>
  encode(AuthSaslStart.ret, { complete, nil: 0, data: Buffer.from(data) });

/** Waits for the client's next call and answers it with the payload; returns the call. */
async function answerNextCall(
  daemon: FakeDaemon,
  proc: { number: number },
  payload: Buffer,
): Promise<Packet> {
  const [call] = await daemon.nextCalls(1);
  daemon.send(packet({ procedure: proc.number, serial: call!.header.serial }, payload));
  return call!;
}

/** Answers AUTH_SASL_INIT with the server's mechanism list. */
const offerMechanisms = (daemon: FakeDaemon, mechlist: string) =>
  answerNextCall(daemon, AuthSaslInit, encode(AuthSaslInit.ret, { mechlist }));

describe("the SASL exchange", () => {
  // The RFC 7677 example, played by a daemon that speaks libvirt RPC.
  it("completes SCRAM-SHA-256 in START and one STEP, checking the server's final data", async () => {
    const { connection, daemon } = fakeConnection();
    const done = authenticateSasl(
      connection,
      () =>
        new ScramMechanism("SCRAM-SHA-256", {
          authname: "user",
          password: "pencil",
          nonce: "rOprNGfwEbeRWgbNEkqO",
        }),
    );
    await offerMechanisms(daemon, "SCRAM-SHA-256,GSSAPI");

    const start = await answerNextCall(
      daemon,
      AuthSaslStart,
      saslReply(
        0,
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      ),
    );
    const startArgs = decode(AuthSaslStart.args, start.payload);
    expect(startArgs).toMatchObject({ mech: "SCRAM-SHA-256", nil: 0 });
    expect(startArgs.data.toString()).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

    const step = await answerNextCall(
      daemon,
      AuthSaslStep,
      saslReply(1, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
    );
    expect(decode(AuthSaslStep.args, step.payload).data.toString()).toMatch(
      /^c=biws,r=.*,p=dHzbZap/,
    );
    await expect(done).resolves.toBe("SCRAM-SHA-256");
  });

  it("fails when the server claims completion with a forged signature", async () => {
    const { connection, daemon } = fakeConnection();
    const done = authenticateSasl(
      connection,
      () =>
        new ScramMechanism("SCRAM-SHA-256", { authname: "user", password: "pencil", nonce: "abc" }),
    );
    await offerMechanisms(daemon, "SCRAM-SHA-256");
    await answerNextCall(
      daemon,
      AuthSaslStart,
      saslReply(0, "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
    );
    await answerNextCall(daemon, AuthSaslStep, saslReply(1, "v=AAAA"));
    await expect(done).rejects.toThrow(/signature is wrong/);
  });

  it("turns the daemon's refusal into an AuthError", async () => {
    const { connection, daemon } = fakeConnection();
    const done = authenticateSasl(connection, () =>
      createPasswordMechanism("PLAIN", { authname: "u", password: "p" }),
    );
    await offerMechanisms(daemon, "PLAIN");
    const [start] = await daemon.nextCalls(1);
    daemon.send(
      errorReply(
        { procedure: AuthSaslStart.number, serial: start!.header.serial },
        {
          code: ErrorCode.AUTH_FAILED,
          domain: ErrorDomain.RPC,
          message: "authentication failed: authentication failed",
        },
      ),
    );
    const error = await done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe(
      "SASL PLAIN authentication failed: authentication failed: authentication failed",
    );
  });

  it("refuses a mechanism forced by the URI that the server does not offer", async () => {
    const { connection, daemon } = fakeConnection();
    const done = authenticateSasl(
      connection,
      () => createPasswordMechanism("PLAIN", { authname: "u", password: "p" }),
      "PLAIN",
    );
    await offerMechanisms(daemon, "SCRAM-SHA-256");
    await expect(done).rejects.toThrow(
      /PLAIN \(from auth=sasl.PLAIN\) is not offered by the server, which offers SCRAM-SHA-256/,
    );
  });
});

describe("choosing a SASL mechanism", () => {
  it("prefers SCRAM-SHA-256, then SCRAM-SHA-1", () => {
    expect(
      chooseSaslMechanism(["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"], undefined, { secure: true }),
    ).toBe("SCRAM-SHA-256");
    expect(chooseSaslMechanism(["PLAIN", "SCRAM-SHA-1"], undefined, { secure: true })).toBe(
      "SCRAM-SHA-1",
    );
  });

  it("uses PLAIN only on an encrypted or local channel", () => {
    expect(chooseSaslMechanism(["PLAIN"], undefined, { secure: true })).toBe("PLAIN");
    expect(() => chooseSaslMechanism(["PLAIN"], undefined, { secure: false })).toThrow(/in clear/);
  });

  it("says that GSSAPI and DIGEST-MD5 are not supported, and what to configure instead", () => {
    expect(() =>
      chooseSaslMechanism(["GSSAPI", "DIGEST-MD5"], undefined, { secure: true }),
    ).toThrow(
      /GSSAPI \(Kerberos\) is not supported.*DIGEST-MD5 is deprecated.*scram-sha-256 to mech_list/,
    );
    expect(() => chooseSaslMechanism(["GSSAPI"], "GSSAPI", { secure: true })).toThrow(
      /not supported by virtwire/,
    );
  });
});
