import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(__dirname, "summarize-jest.js");
const ESC = String.fromCharCode(27);

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "vwtest-summary-"))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Suite {
  name: string;
  status: string;
  assertionResults: { status: string }[];
}

const test = (fullName: string, status: string, startAt: number, message = "") => ({
  fullName,
  status,
  startAt,
  failureMessages: message ? [message] : [],
});

/** The script's output and exit code for a report of these suites. */
function summarize(testResults: Suite[], events?: string): { out: string; code: number } {
  const count = (status: string) =>
    testResults.flatMap((suite) => suite.assertionResults).filter((t) => t.status === status)
      .length;
  const report = {
    numPassedTests: count("passed"),
    numFailedTests: count("failed"),
    numPendingTests: count("pending"),
    numTodoTests: 0,
    testResults,
  };
  writeFileSync(join(dir, "jest.json"), JSON.stringify(report));
  if (events) writeFileSync(join(dir, "testbed-events.log"), events);
  try {
    const out = execFileSync("node", [SCRIPT, join(dir, "jest.json")], { encoding: "utf8" });
    return { out, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; status: number };
    return { out: failed.stdout, code: failed.status };
  }
}

describe("the run's summary", () => {
  it("ends with the counts CI reads, after one line per daemon", () => {
    const { out, code } = summarize([
      {
        name: "/repo/test/integration/a.test.ts",
        status: "passed",
        assertionResults: [
          test("[libvirt 9] a works", "passed", 1),
          test("[libvirt 11] a works", "passed", 2),
          test("[libvirt 11] a later", "pending", 3),
        ],
      },
    ]);
    expect(out.trimEnd().split("\n")).toEqual([
      "integration on libvirt 9: 1 passed, 0 failed, 0 skipped",
      "integration on libvirt 11: 1 passed, 0 failed, 1 skipped",
      "2 passed, 0 failed, 1 skipped",
    ]);
    expect(code).toBe(0);
  });

  it("names the first failures in the order they started, with their first line", () => {
    const { out, code } = summarize([
      {
        name: "/repo/test/integration/late.test.ts",
        status: "failed",
        assertionResults: [
          test("[libvirt 9] late one", "failed", Date.UTC(2026, 0, 1, 10, 5), "x"),
        ],
      },
      {
        name: "/repo/test/integration/early.test.ts",
        status: "failed",
        assertionResults: [
          test(
            "[libvirt 11] early one",
            "failed",
            Date.UTC(2026, 0, 1, 10, 0),
            `\n${ESC}[31mConnectionClosedError: connecting timed out${ESC}[39m\n  at x`,
          ),
        ],
      },
    ]);
    const lines = out.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "first failures (2 of 2):",
      "  10:00:00 /repo/test/integration/early.test.ts: [libvirt 11] early one",
      "    ConnectionClosedError: connecting timed out",
      "  10:05:00 /repo/test/integration/late.test.ts: [libvirt 9] late one",
      "    x",
    ]);
    expect(out).toMatch(/\n0 passed, 2 failed, 0 skipped\n$/);
    expect(code).toBe(1);
  });

  it("prints the daemons the test bed revived", () => {
    const events = "10:00:00 libvirt 11 did not answer before b.test.ts:\n  killed\n";
    const { out } = summarize(
      [
        {
          name: "/repo/b.test.ts",
          status: "passed",
          assertionResults: [test("b", "passed", 1)],
        },
      ],
      events,
    );
    expect(out).toContain(
      `revived a daemon that stopped answering (${join(dir, "testbed-events.log")}):\n` +
        "  10:00:00 libvirt 11 did not answer before b.test.ts:\n    killed\n",
    );
  });

  it("still ends with the counts when a failure has no start time and no message", () => {
    const { out } = summarize([
      {
        name: "/repo/d.test.ts",
        status: "failed",
        assertionResults: [{ status: "failed", fullName: "d" } as { status: string }],
      },
    ]);
    expect(out).toContain("  --:--:-- /repo/d.test.ts: d\n    (no message)\n");
    expect(out).toMatch(/\n0 passed, 1 failed, 0 skipped\n$/);
  });

  it("prints at most 24 lines of revivals and says how many more there were", () => {
    const events = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    const { out } = summarize(
      [{ name: "/repo/e.test.ts", status: "passed", assertionResults: [test("e", "passed", 1)] }],
      events,
    );
    expect(out).toContain("  line 23\n  … 6 more lines\n");
    expect(out).not.toContain("line 24");
  });

  it("counts a suite that could not run as a failure, and a run without tests too", () => {
    const broken = summarize([{ name: "/repo/c.test.ts", status: "failed", assertionResults: [] }]);
    expect(broken.out).toContain("suite failed to run: /repo/c.test.ts");
    expect(broken.out).toMatch(/0 passed, 1 failed, 0 skipped\n$/);
    expect(broken.code).toBe(1);
    expect(summarize([]).code).toBe(1);
  });
});
