// Prints the closing line CI reads, `N passed, N failed, N skipped`, from jest's JSON report,
// after one line per daemon for the integration tests, whose names start with `[libvirt N]`
// (test/support/libvirt-environment.ts).
// Exits 1 when a test failed, a suite failed to run, or no test ran (so "nothing ran" is never
// mistaken for success).
const fs = require("node:fs");

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
