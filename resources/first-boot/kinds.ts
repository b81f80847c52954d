/**
 * The two first-boot config kinds (handlers.ts) and what each checks at preview: what the guest's
 * first boot would refuse or ignore, said without quoting the content (it is kept secret).
 */
import { firstBootFileHandlers } from "./handlers";

/** Ignition (Fedora CoreOS, Flatcar): a JSON object with `ignition.version`, or it fails the boot. */
function ignitionProblem(content: string): string | undefined {
  let config: unknown;
  try {
    config = JSON.parse(content);
  } catch (error) {
    // V8's message quotes the text; only the position is said.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    return `content is not valid JSON${at ? ` (at character ${at})` : ""}: Ignition fails the first boot on it; write the config as JSON (e.g. made by butane)`;
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return "content is JSON but not an object: an Ignition config is an object with ignition.version";
  }
  const version = (config as { ignition?: { version?: unknown } }).ignition?.version;
  if (typeof version !== "string" || !/^\d+\.\d+\.\d+(-experimental)?$/.test(version)) {
    return 'content has no ignition.version (e.g. { "ignition": { "version": "3.4.0" } }): Ignition refuses a config without one';
  }
  return undefined;
}

/** Combustion (openSUSE MicroOS) runs the script as an executable: it needs an interpreter line. */
function combustionProblem(script: string): string | undefined {
  if (script.startsWith("#!")) return undefined;
  return "script does not start with #! (e.g. #!/bin/bash): Combustion runs it as an executable, and the first boot fails on it";
}

export const ignitionConfigHandlers = firstBootFileHandlers({
  noun: "Ignition config",
  property: "content",
  base: "ignition",
  problem: ignitionProblem,
});

export const combustionScriptHandlers = firstBootFileHandlers({
  noun: "Combustion script",
  property: "script",
  base: "combustion",
  problem: combustionProblem,
});
