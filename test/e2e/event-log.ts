/**
 * Reading the engine's event log (`pulumi up --event-log <file>`: one JSON engine event per line,
 * apitype.EngineEvent): the diagnostics, each with the URN it is attached to and whether it was
 * ephemeral (a status shown on the resource's row) or kept (printed in Diagnostics).
 */
import * as fs from "node:fs";

export interface Diagnostic {
  /** The resource's URN; empty for a line on the stack. */
  urn: string;
  message: string;
  severity: string;
  ephemeral: boolean;
}

interface EngineEvent {
  diagnosticEvent?: {
    urn?: string;
    message: string;
    severity: string;
    ephemeral?: boolean;
  };
}

export function diagnosticsOf(file: string): Diagnostic[] {
  const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
  return lines.flatMap((line) => {
    const event = (JSON.parse(line) as EngineEvent).diagnosticEvent;
    if (!event) return [];
    return [
      {
        urn: event.urn ?? "",
        message: event.message.trim(),
        severity: event.severity,
        ephemeral: event.ephemeral === true,
      },
    ];
  });
}

/** The resource name at the end of a URN (`…::vm` → `vm`), or `(stack)` for none. */
export function resourceOf(urn: string): string {
  return urn ? urn.slice(urn.lastIndexOf("::") + 2) : "(stack)";
}
