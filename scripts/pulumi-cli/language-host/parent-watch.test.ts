import { spawn } from "node:child_process";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("the language host's parent watch", () => {
  it("exits soon after its parent is killed with SIGKILL, stopping what it runs", async () => {
    // bash stands in for the CLI: it starts the watcher, prints its pid, and is then killed.
    const watcher = `require("./parent-watch").exitWithParent(() => console.log("stopped"), 100);
      setInterval(() => {}, 1000);`;
    const cli = spawn(
      "bash",
      ["-c", `node -r ts-node/register/transpile-only -e '${watcher}' & echo $!; wait`],
      { cwd: __dirname, stdio: ["ignore", "pipe", "inherit"] },
    );
    const pid = await new Promise<number>((resolve) =>
      cli.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(alive(pid)).toBe(true);
    cli.kill("SIGKILL");
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
  }, 20_000);
});
