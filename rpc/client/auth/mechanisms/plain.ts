/**
 * PLAIN (RFC 4616): one message, `authzid NUL authcid NUL password`. It sends the password itself,
 * so the SASL layer only offers it on a channel that is already encrypted or local (TLS, unix
 * socket, SSH); see ../sasl.ts.
 */
import { SaslMechanism } from "./mechanism";

export class PlainMechanism implements SaslMechanism {
  readonly name = "PLAIN";
  private sent = false;

  constructor(
    private readonly credentials: { authname: string; password: string; authzid?: string },
  ) {}

  get complete(): boolean {
    return this.sent;
  }

  start(): Buffer {
    this.sent = true;
    const { authzid = "", authname, password } = this.credentials;
    return Buffer.from(`${authzid}\0${authname}\0${password}`, "utf8");
  }

  step(): Buffer | null {
    return null;
  }
}
