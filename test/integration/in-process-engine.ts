/**
 * The Pulumi engine's steps for single resources, run against the provider object in this process
 * (configure, then check → diff → create/update/replace, read for refresh, delete), until the
 * tests can drive the real dynamic-provider plugin over gRPC. Replacements re-check against empty
 * olds and honour deleteBeforeReplace, as the engine does (pulumi-dynamic-providers.md §4).
 */
import { createProvider } from "../../provider/dispatch";
import type { DiffResult } from "../../provider/resource";
import { Libvirt } from "../../rpc";
import { registry } from "../../resources/registry";
import { TEST_URI } from "../support/testbed";

type Props = Record<string, unknown>;

interface Entry {
  kind: string;
  id: string;
  inputs: Props;
  outputs: Props;
}

export interface Step {
  step: "create" | "same" | "update" | "replace";
  id: string;
  outputs: Props;
  diff?: DiffResult;
  calls: string[];
}

export class InProcessEngine {
  readonly logs: string[] = [];
  private readonly state = new Map<string, Entry>();
  private readonly restore: (() => void)[] = [];
  private readonly connections: Promise<Libvirt>[] = [];

  private constructor(private readonly provider: ReturnType<typeof createProvider>) {}

  static async start(): Promise<InProcessEngine> {
    const engine = new InProcessEngine(createProvider(registry));
    // The provider's shared connections, to close after the tests; its log lines, to assert on.
    const connect = Libvirt.connect.bind(Libvirt);
    const connectSpy = jest.spyOn(Libvirt, "connect").mockImplementation((...args) => {
      const attempt = connect(...args);
      engine.connections.push(attempt);
      return attempt;
    });
    const logSpy = jest.spyOn(console, "log").mockImplementation((line: unknown) => {
      engine.logs.push(String(line));
    });
    engine.restore.push(
      () => connectSpy.mockRestore(),
      () => logSpy.mockRestore(),
    );
    await engine.provider.configure({
      config: { get: (key) => (key === "virtwire:uri" ? TEST_URI : undefined) },
    });
    return engine;
  }

  async close(): Promise<void> {
    for (const undo of this.restore) undo();
    await Promise.all(
      this.connections.map((attempt) => attempt.then((lv) => lv.close()).catch(() => undefined)),
    );
  }

  id(name: string): string {
    return this.entry(name).id;
  }

  outputs(name: string): Props {
    return this.entry(name).outputs;
  }

  private entry(name: string): Entry {
    const entry = this.state.get(name);
    if (!entry) throw new Error(`${name} is not in the state`);
    return entry;
  }

  private async check(olds: Props, news: Props): Promise<Props> {
    const { inputs, failures } = await this.provider.check!(olds, news);
    if (failures?.length) {
      throw new Error(failures.map((f) => `property ${f.property}: ${f.reason}`).join("\n"));
    }
    return inputs!;
  }

  /** `pulumi up` for one resource. */
  async up(kind: string, name: string, args: Props): Promise<Step> {
    const news = { __kind: kind, __logicalName: name, ...args };
    const old = this.state.get(name);
    const calls = ["check"];
    let inputs = await this.check(old?.inputs ?? {}, news);
    if (!old) {
      calls.push("create");
      const { id, outs } = await this.provider.create(inputs);
      this.state.set(name, { kind, id, inputs, outputs: outs });
      return { step: "create", id, outputs: outs, calls };
    }
    calls.push("diff");
    const diff = (await this.provider.diff!(old.id, old.outputs, inputs)) as DiffResult;
    if (!diff.changes) {
      this.state.set(name, { ...old, inputs });
      return { step: "same", id: old.id, outputs: old.outputs, diff, calls };
    }
    if (diff.replaces.length === 0) {
      calls.push("update");
      const { outs } = await this.provider.update!(old.id, old.outputs, inputs);
      this.state.set(name, { ...old, inputs, outputs: outs! });
      return { step: "update", id: old.id, outputs: outs!, diff, calls };
    }
    calls.push("check");
    inputs = await this.check({}, news);
    if (diff.deleteBeforeReplace) {
      calls.push("delete");
      await this.provider.delete!(old.id, old.outputs);
      this.state.delete(name);
    }
    calls.push("create");
    const { id, outs } = await this.provider.create(inputs);
    this.state.set(name, { kind, id, inputs, outputs: outs });
    if (!diff.deleteBeforeReplace) {
      calls.push("delete");
      await this.provider.delete!(old.id, old.outputs);
    }
    return { step: "replace", id, outputs: outs, diff, calls };
  }

  /** `pulumi refresh` of one resource. */
  async refresh(name: string): Promise<"same" | "changed" | "deleted"> {
    const old = this.entry(name);
    const read = await this.provider.read!(old.id, old.outputs);
    if (!read.id) {
      this.state.delete(name);
      return "deleted";
    }
    this.state.set(name, { ...old, outputs: read.props! });
    return JSON.stringify(read.props) === JSON.stringify(old.outputs) ? "same" : "changed";
  }

  /** `pulumi destroy` of one resource. */
  async destroy(name: string): Promise<void> {
    const old = this.entry(name);
    await this.provider.delete!(old.id, old.outputs);
    this.state.delete(name);
  }

  /** A delete of something already deleted (a retried destroy). */
  async deleteAgain(kind: string, id: string, outputs: Props): Promise<void> {
    await this.provider.delete!(id, { __kind: kind, ...outputs });
  }
}
