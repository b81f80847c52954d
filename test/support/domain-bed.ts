/**
 * What most Domain integration tests set up alike: the provider under a test engine, a connection
 * to the test bed and a scratch directory for the file; a fresh engine for each test, whose
 * resources are destroyed after it (also when it failed); all closed and removed after the file.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Libvirt } from "../../rpc";
import type { Engine } from "./engine";
import { connectTestbed } from "./testbed";
import { VirtwireEngine } from "./virtwire-engine";

export interface DomainBed {
  virtwire: VirtwireEngine;
  lv: Libvirt;
  /** This test's engine (a new one before each test). */
  engine: Engine;
  /** A directory of this file's own, e.g. for console logs and images. */
  scratch: string;
}

/** Registers the file's hooks; the fields are set once `beforeAll` has run. */
export function useDomainBed(purpose: string): DomainBed {
  const bed = {} as DomainBed;
  beforeAll(async () => {
    [bed.virtwire, bed.lv] = await Promise.all([VirtwireEngine.start(), connectTestbed()]);
    bed.scratch = await mkdtemp(join(tmpdir(), `vwtest-${purpose}-`));
  });
  beforeEach(() => {
    bed.engine = bed.virtwire.reset();
  });
  afterEach(async () => {
    await bed.engine?.destroy().catch(() => undefined);
  });
  afterAll(async () => {
    await bed.virtwire?.close();
    if (bed.scratch) await rm(bed.scratch, { recursive: true, force: true });
    await bed.lv?.close();
  });
  return bed;
}
