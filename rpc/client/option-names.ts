/**
 * How messages name the options of Libvirt.connect. A message that tells the user what to set
 * names the option through an OptionNamer instead of spelling it: by default as the client's own
 * option path (`options.ssh.privateKey`); a caller that exposes these options under other names
 * (the provider: its stack config keys) passes ConnectOptions.optionName, and the messages use its
 * names. A namer returns a name, never a value: nothing secret can reach a message through it.
 */

/**
 * The options a message can name: paths into ConnectOptions, plus one for the credential sources
 * as asked for an SSH login (`credentials.ssh`), which a caller may describe differently from the
 * sources asked for SASL (`credentials`).
 */
export type OptionPath =
  | "credentials"
  | "credentials.ssh"
  | "ssh.privateKey"
  | "ssh.passphrase"
  | "ssh.password"
  | "ssh.hostKeyFingerprint"
  | "tls"
  | "tls.ca"
  | "tls.cert"
  | "tls.key";

/** Gives an option's name in messages. */
export type OptionNamer = (option: OptionPath) => string;

/** The client's own names: `options.<path>`; both kinds of credential sources are `options.credentials`. */
export const optionPath: OptionNamer = (option) =>
  `options.${option === "credentials.ssh" ? "credentials" : option}`;
