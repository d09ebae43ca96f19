#!/usr/bin/env node
// `npm test`: typecheck, then every tap suite (test/ and conformance/), then one closing line
// "N passed, N failed" — the line CI reads (tap's own summary is not). Exit code is non-zero on any
// failure. Extra arguments go to tap (e.g. `npm test -- test/storage/embedded.test.ts`).
import { spawn } from 'node:child_process';

function run(command, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

let passed = 0;
let failed = 0;

process.stdout.write('== typecheck (tsc --noEmit)\n');
const typecheck = await run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
if (typecheck.code === 0) passed++;
else failed++;

process.stdout.write('== tap\n');
const suites = process.argv.slice(2);
const tap = await run('npx', ['tap', '--reporter=tap', ...suites], { capture: true });
// tap ends with a comment like "# { total: 87, pass: 85, fail: 2 }" (also skip/todo when present).
const summary = [...tap.output.matchAll(/^# \{ total: (\d+)(.*)\}$/gm)].pop();
if (summary) {
  const count = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(summary[2] ?? '')?.[1] ?? 0);
  passed += count('pass');
  failed += count('fail');
  if (count('skip') + count('todo') > 0) process.stdout.write(`(${count('skip')} skipped, ${count('todo')} todo)\n`);
}
if (tap.code !== 0 && (!summary || failed === 0)) failed++; // tap failed without a countable assertion

// The failures again, each with the subtests it sits in, so the end of a long log names them.
const failures = failedAssertions(tap.output);
if (failures.length > 0) {
  // The first failure's diagnostics (what was found instead), short enough to stay in the log's tail.
  const details = failures[0].diag.split('\n').slice(0, 24).map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  if (details.some((l) => l.trim() !== '')) process.stdout.write(`== first failure: ${failures[0].path}\n${details.join('\n')}\n`);
  process.stdout.write(`== failed (${failures.length})\n${failures.map((f) => `- ${f.path}`).join('\n')}\n`);
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;

/**
 * "file > subtest > … > assertion" for every `not ok` leaf in tap's output (parents failing only
 * because a child did are left out), each with its YAML diagnostics block.
 */
function failedAssertions(output) {
  const stack = [];
  const found = [];
  const lines = output.split('\n');
  for (const [index, line] of lines.entries()) {
    const subtest = /^( *)# Subtest: (.*)$/.exec(line);
    if (subtest) {
      const depth = subtest[1].length / 4;
      stack.length = depth;
      stack[depth] = subtest[2];
      continue;
    }
    const failure = /^( *)not ok \d+ - (.*?)(?: # time=.*)?$/.exec(line);
    if (!failure) continue;
    const depth = failure[1].length / 4;
    const path = [...stack.slice(0, depth), failure[2]].join(' > ');
    // A parent's `not ok` repeats its own subtest name after its children's failures: keep the leaves.
    if (!found.some((f) => f.path.startsWith(`${path} > `))) found.push({ path, diag: diagnosticsAfter(lines, index, failure[1]) });
  }
  return found;
}

/** The `---` … `...` block tap prints under the `not ok` line at `index`, without its markers. */
function diagnosticsAfter(lines, index, indent) {
  if (lines[index + 1] !== `${indent}  ---`) return '';
  const block = [];
  let skipping = false;
  for (let i = index + 2; i < lines.length && lines[i] !== `${indent}  ...`; i++) {
    const line = lines[i].slice(indent.length + 2);
    // Where in the test file it failed is in the failure's name already; the rest is what was seen.
    if (/^\S/.test(line)) skipping = /^(at|stack|source):/.test(line);
    if (!skipping) block.push(line);
  }
  return block.join('\n');
}
