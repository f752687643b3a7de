#!/usr/bin/env node
// After `npm test` under CI: the failed tests of each JSON report, and the tests that passed only on a retry, with
// the first lines of their errors, so the end of a long log says what failed and what is flaky.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = '.test-servers';
const ERROR_LINES = 12;
/** The message and the project's own stack frames; frames inside node_modules say nothing here. */
const firstLines = (message) =>
	message
		.split('\n')
		.filter((line) => !/node_modules|<anonymous>/.test(line))
		.slice(0, ERROR_LINES)
		.join('\n');
const reports = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^vitest-.*\.json$/.test(f)) : [];
if (reports.length === 0) console.log('no vitest JSON report: the failure came before the tests ran');
for (const file of reports) {
	const report = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
	console.log(`--- ${file}: ${report.numFailedTests} failed, ${report.numPassedTests} passed of ${report.numTotalTests}`);
	for (const suite of report.testResults ?? []) {
		if (suite.status === 'failed' && !(suite.assertionResults ?? []).some((t) => t.status === 'failed')) {
			console.log(`FAILED FILE ${suite.name}\n${firstLines(String(suite.message ?? ''))}`);
		}
		for (const test of suite.assertionResults ?? []) {
			const retried = test.status === 'passed' && (test.failureMessages ?? []).length > 0;
			if (test.status !== 'failed' && !retried) continue;
			console.log(`${retried ? 'PASSED ON RETRY' : 'FAILED'} ${suite.name} > ${test.fullName} (${Math.round(test.duration ?? 0)} ms)`);
			for (const message of test.failureMessages ?? []) console.log(firstLines(message));
		}
	}
}
