// Prints the closing line CI reads, `N passed, N failed, N skipped`, from jest's JSON report,
// after one line per daemon for the integration tests, whose names start with `[libvirt N]`
// (test/support/libvirt-environment.ts), and before those the first failures in the order they
// started and the daemons the test bed had to revive (testbed-events.log beside the report): CI
// keeps only the end of the output, and when a daemon stalls the first failure is the cause.
// Exits 1 when a test failed, a suite failed to run, or no test ran (so "nothing ran" is never
// mistaken for success).
const fs = require("node:fs");
const path = require("node:path");

const file = process.argv[2] ?? "reports/jest.json";
let report;
try {
  report = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (error) {
  console.log(`jest produced no report (${error.message})`);
  console.log("0 passed, 1 failed, 0 skipped");
  process.exit(1);
}

const brokenSuites = report.testResults.filter(
  (suite) => suite.status === "failed" && suite.assertionResults.length === 0,
);
for (const suite of brokenSuites) {
  console.log(`suite failed to run: ${suite.name}`);
}
const FIRST_FAILURES = 8;
const ESCAPES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const failures = report.testResults
  .flatMap((suite) =>
    suite.assertionResults
      .filter((test) => test.status === "failed")
      .map((test) => ({ suite, test, at: test.startAt ?? suite.startTime ?? 0 })),
  )
  .sort((a, b) => a.at - b.at);
if (failures.length > 0) {
  console.log(
    `first failures (${Math.min(FIRST_FAILURES, failures.length)} of ${failures.length}):`,
  );
  for (const { suite, test, at } of failures.slice(0, FIRST_FAILURES)) {
    const relative = suite.name.replace(`${process.cwd()}/`, "");
    const reason = (test.failureMessages?.[0] ?? "")
      .replace(ESCAPES, "")
      .split("\n")
      .map((line) => line.trim())
      .find((line) => line !== "");
    const time = at > 0 ? new Date(at).toISOString().slice(11, 19) : "--:--:--";
    console.log(`  ${time} ${relative}: ${test.fullName}`);
    console.log(`    ${(reason ?? "(no message)").slice(0, 200)}`);
  }
}
const events = path.join(path.dirname(file), "testbed-events.log");
if (fs.existsSync(events)) {
  const lines = fs.readFileSync(events, "utf8").trimEnd().split("\n");
  console.log(`the test bed revived a daemon that stopped answering (${events}):`);
  for (const line of lines.slice(0, 24)) console.log(`  ${line}`);
  if (lines.length > 24) console.log(`  … ${lines.length - 24} more lines`);
}
const byDaemon = new Map();
for (const suite of report.testResults) {
  for (const test of suite.assertionResults) {
    const label = /^\[(libvirt [^\]]+)\] /.exec(test.fullName)?.[1];
    if (!label) continue;
    const counts = byDaemon.get(label) ?? { passed: 0, failed: 0, skipped: 0 };
    if (test.status === "passed") counts.passed++;
    else if (test.status === "failed") counts.failed++;
    else counts.skipped++;
    byDaemon.set(label, counts);
  }
}
for (const [label, counts] of byDaemon) {
  console.log(
    `integration on ${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
  );
}
const passed = report.numPassedTests;
const failed = report.numFailedTests + brokenSuites.length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
