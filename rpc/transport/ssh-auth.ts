/**
 * SSH user authentication, in the order of the URI's `sshauth=` (libvirt's libssh transport;
 * default `agent,privkey,password,keyboard-interactive`):
 *
 *   agent                 every key of the ssh-agent at options.ssh.agent or $SSH_AUTH_SOCK
 *   privkey               options.ssh.privateKey (text, or a key read already), else keyfile=,
 *                         else the default files in ~/.ssh
 *   password              options.ssh.password, else the credential sources (CredentialType
 *                         PASSPHRASE; the no-empty-answer rule applies)
 *   keyboard-interactive  each prompt asked from the same sources (password prompts as PASSPHRASE)
 *
 * A method the server does not offer is skipped. Nothing secret appears in messages.
 */
import { readFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { AuthError } from "../errors";
import {
  CredentialContext,
  CredentialRequest,
  CredentialSource,
  CredentialType,
  collectCredentials,
  staticCredentials,
} from "../client/auth/credentials";
import { OptionNamer, optionPath } from "../client/option-names";
import { SshParsedKey, SshPrivateKey, parsedKey, readSshPrivateKey } from "./ssh-key";
import { SSH_AUTH_METHODS, SshAuthMethod } from "./uri";

/** What the SSH transports take besides the URI. */
export interface SshOptions {
  /**
   * A private key to use instead of `keyfile=`: OpenSSH or PEM text, or a key read already
   * (readSshPrivateKey, as the provider does to check it before connecting).
   */
  privateKey?: string | Buffer | SshPrivateKey;
  /** The passphrase of an encrypted private key (options.ssh.privateKey, keyfile= or default). */
  passphrase?: string;
  /** The password for password and keyboard-interactive logins; else the credential sources. */
  password?: string;
  /** Pinned host key fingerprint(s), `SHA256:…` as `ssh-keygen -lf` prints; known_hosts is then not consulted. */
  hostKeyFingerprint?: string | readonly string[];
  /** The ssh-agent socket; default `$SSH_AUTH_SOCK`; `false` never uses an agent. */
  agent?: string | false;
  /** The known_hosts file to use instead of `known_hosts=` and the default files. */
  knownHosts?: string;
}

/*
 * What the session hands to ssh2, in types of our own: these appear in the published declarations,
 * and ssh2's types (@types/ssh2) are a development dependency. They are subsets of ssh2's
 * (AuthenticationType, AnyAuthMethod, AuthHandlerMiddleware); ssh.ts passes them to ssh2, whose
 * types check that they fit.
 */

/** An SSH user-authentication method as ssh2 names it (RFC 4252's, and `agent`). */
export type SshMethodName =
  "none" | "password" | "publickey" | "hostbased" | "agent" | "keyboard-interactive";

/** One prompt of a keyboard-interactive round. */
export interface SshPrompt {
  prompt: string;
  echo?: boolean;
}

/** What to try next. */
export type SshAuthAttempt =
  | { type: "agent"; username: string; agent: string }
  | { type: "publickey"; username: string; key: SshParsedKey }
  | { type: "password"; username: string; password: string }
  | {
      type: "keyboard-interactive";
      username: string;
      prompt: (
        name: string,
        instructions: string,
        lang: string,
        prompts: SshPrompt[],
        finish: (answers: string[]) => void,
      ) => void;
    };

/**
 * ssh2's authHandler in its callback form: called with the methods the server still accepts
 * (null before the first attempt), answered through `next` with an attempt, or `false` when
 * there is nothing left to try.
 */
export type SshAuthHandler = (
  methodsLeft: SshMethodName[] | null,
  partialSuccess: boolean | null,
  next: (attempt: SshAuthAttempt | false) => void,
) => void;

/** Default identity files tried when neither options.ssh.privateKey nor keyfile= is given. */
export const DEFAULT_KEY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa", "identity", "id_dsa"];

export interface SshAuthPlan {
  username: string;
  methods: SshAuthMethod[];
  agent?: string;
  keys: { source: string; key: SshParsedKey }[];
  /** Why some methods have nothing to offer, for the final message. */
  notes: string[];
  credentials: readonly CredentialSource[];
  context: CredentialContext;
  /** How the final message names the options (client/option-names.ts); default `options.<path>`. */
  optionName?: OptionNamer;
}

interface KeySource {
  source: string;
  data: string | Buffer | SshPrivateKey;
  explicit: boolean;
}

/** Loads keys and decides what each method can use. Explicit keys that cannot be read fail here. */
export function planSshAuth(options: {
  username: string;
  sshauth?: SshAuthMethod[];
  keyfile?: string;
  ssh: SshOptions;
  credentials: readonly CredentialSource[];
  context: CredentialContext;
  home?: string;
  env?: NodeJS.ProcessEnv;
  optionName?: OptionNamer;
}): SshAuthPlan {
  const { ssh } = options;
  const env = options.env ?? process.env;
  const optionName = options.optionName ?? optionPath;
  const notes: string[] = [];
  const agent = ssh.agent === false ? undefined : (ssh.agent ?? env.SSH_AUTH_SOCK) || undefined;
  if (!agent)
    notes.push(ssh.agent === false ? "agent: disabled" : "agent: SSH_AUTH_SOCK is not set");
  const keys: SshAuthPlan["keys"] = [];
  const home = options.home ?? homedir();
  for (const candidate of keySources(options.keyfile, ssh, home, optionName)) {
    const { data, source } = candidate;
    const key = data instanceof SshPrivateKey ? data : readSshPrivateKey(data, ssh.passphrase);
    if (!(key instanceof SshPrivateKey)) {
      if (candidate.explicit) {
        throw new AuthError(
          `cannot use the SSH private key from ${source}: ${key.problem}` +
            (key.passphrase ? ` (give ${optionName("ssh.passphrase")})` : ""),
        );
      }
      notes.push(`privkey: skipped ${source} (${key.problem})`);
      continue;
    }
    keys.push({ source, key: parsedKey(key) });
  }
  return {
    username: options.username,
    methods: options.sshauth ?? [...SSH_AUTH_METHODS],
    agent,
    keys,
    notes,
    credentials: [
      ...(ssh.password !== undefined
        ? [staticCredentials(optionName("ssh.password"), { password: ssh.password })]
        : []),
      ...options.credentials,
    ],
    context: options.context,
    optionName,
  };
}

function keySources(
  keyfile: string | undefined,
  ssh: SshOptions,
  home: string,
  optionName: OptionNamer,
): KeySource[] {
  if (ssh.privateKey !== undefined) {
    return [{ source: optionName("ssh.privateKey"), data: ssh.privateKey, explicit: true }];
  }
  if (keyfile !== undefined) {
    let data: Buffer;
    try {
      data = readFileSync(keyfile);
    } catch (error) {
      throw new AuthError(
        `cannot read the SSH key file ${keyfile} (keyfile= in the URI): ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return [{ source: `keyfile ${keyfile}`, data, explicit: true }];
  }
  return DEFAULT_KEY_FILES.map((name) => `${home}/.ssh/${name}`)
    .filter((path) => existsSync(path))
    .map((path) => ({ source: path, data: readFileSync(path), explicit: false }));
}

/** The state of one login: what was tried, and a fatal error to report instead of ssh2's. */
export class SshAuthSession {
  readonly tried: string[] = [];
  offered: SshMethodName[] | undefined;
  fatal: Error | undefined;
  private queue: AnyAuthStep[];
  private password: string | undefined;

  constructor(private readonly plan: SshAuthPlan) {
    this.queue = plan.methods.flatMap((method) => this.steps(method));
  }

  /** ssh2's authHandler, in its callback form. */
  readonly handler: SshAuthHandler = (authsLeft, _partial, next) => {
    if (authsLeft) this.offered = authsLeft;
    void this.next(next);
  };

  /** The AuthError to report when every method failed. */
  failure(where: string): Error {
    if (this.fatal) return this.fatal;
    const offered = this.offered ? ` (the server accepts: ${this.offered.join(", ")})` : "";
    const tried = this.tried.length > 0 ? this.tried.join("; ") : "nothing";
    const notes = this.plan.notes.length > 0 ? `; not usable: ${this.plan.notes.join("; ")}` : "";
    const name = this.plan.optionName ?? optionPath;
    return new AuthError(
      `SSH authentication as ${this.plan.username} at ${where} failed${offered}; tried: ${tried}${notes}. ` +
        `Give a key (keyfile= or ${name("ssh.privateKey")}), an agent (SSH_AUTH_SOCK) or a password (${name("ssh.password")} or ${name("credentials.ssh")})`,
    );
  }

  private async next(next: (attempt: SshAuthAttempt | false) => void): Promise<void> {
    for (;;) {
      if (this.fatal) return next(false);
      const step = this.queue.shift();
      if (!step) return next(false);
      if (this.offered && !this.offered.includes(step.wire)) continue;
      try {
        const method = await step.build();
        this.tried.push(step.description);
        return next(method);
      } catch (error) {
        this.fatal = this.wrap(error);
        return next(false);
      }
    }
  }

  private steps(method: SshAuthMethod): AnyAuthStep[] {
    const username = this.plan.username;
    switch (method) {
      case "agent":
        if (!this.plan.agent) return [];
        return [
          {
            wire: "publickey",
            description: `agent (${this.plan.agent})`,
            build: async () => ({ type: "agent", username, agent: this.plan.agent! }),
          },
        ];
      case "privkey":
        return this.plan.keys.map(({ source, key }) => ({
          wire: "publickey",
          description: `publickey (${source})`,
          build: async () => ({ type: "publickey", username, key }),
        }));
      case "password":
        return [
          {
            wire: "password",
            description: "password",
            build: async () => ({ type: "password", username, password: await this.askPassword() }),
          },
        ];
      case "keyboard-interactive":
        return [
          {
            wire: "keyboard-interactive",
            description: "keyboard-interactive",
            build: async () => ({
              type: "keyboard-interactive",
              username,
              prompt: (_name, instructions, _lang, prompts, finish) => {
                this.answerPrompts(instructions, prompts).then(finish, (error: unknown) => {
                  this.fatal = this.wrap(error);
                  finish([]);
                });
              },
            }),
          },
        ];
    }
  }

  /** A credential failure, with what was tried before it; the cause keeps the original. */
  private wrap(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    const tried = this.tried.length > 0 ? ` (tried before: ${this.tried.join("; ")})` : "";
    return new AuthError(
      `SSH authentication as ${this.plan.username} on ${this.plan.context.host}: ${message}${tried}`,
      { cause: error },
    );
  }

  private async askPassword(): Promise<string> {
    if (this.password === undefined) {
      const [password] = await collectCredentials(
        [{ type: CredentialType.PASSPHRASE, prompt: this.passwordPrompt() }],
        this.plan.credentials,
        this.plan.context,
      );
      this.password = password;
    }
    return this.password!;
  }

  private passwordPrompt(): string {
    return `Password for ${this.plan.username}@${this.plan.context.host}`;
  }

  private async answerPrompts(instructions: string, prompts: SshPrompt[]): Promise<string[]> {
    if (prompts.length === 0) return [];
    const requests: CredentialRequest[] = prompts.map((prompt) => ({
      type: isPasswordPrompt(prompt)
        ? CredentialType.PASSPHRASE
        : prompt.echo
          ? CredentialType.ECHOPROMPT
          : CredentialType.NOECHOPROMPT,
      prompt: isPasswordPrompt(prompt) ? this.passwordPrompt() : prompt.prompt.trim(),
      challenge: instructions || undefined,
    }));
    if (requests.every((request) => request.type === CredentialType.PASSPHRASE)) {
      const password = await this.askPassword();
      return requests.map(() => password);
    }
    return collectCredentials(requests, this.plan.credentials, this.plan.context);
  }
}

interface AnyAuthStep {
  /** The SSH method name the server must offer. */
  wire: SshMethodName;
  description: string;
  build(): Promise<SshAuthAttempt>;
}

/**
 * Whether a keyboard-interactive prompt asks for the password. This reads the server's words on
 * purpose: RFC 4256 gives a prompt only its text and an echo flag, so the text is the protocol's
 * own way of saying what is asked (sshd's PAM conversation sends "Password: "). A prompt in
 * other words is asked from the credential sources as it is.
 */
function isPasswordPrompt(prompt: SshPrompt): boolean {
  return !prompt.echo && /pass(word|phrase)/i.test(prompt.prompt);
}
