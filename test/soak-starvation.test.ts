/**
 * The soak's "nobody starves" check on per-second write counts: it covers the seconds in which
 * processes were meant to write (up to the deadline, not while they were exiting), and leaves
 * out the windows of faults that held every writer off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { starvationInvariant } from '../tools/soak/starvation.js';
import type { FaultEvent } from '../tools/soak/soak-result.js';

/** Two processes that wrote `n` times in each second before `untilS`, and never after. */
function writes(untilS: number, gap?: { proc: number; sec: number }): Map<number, Map<number, number>> {
  const all = new Map<number, Map<number, number>>();
  for (let proc = 0; proc < 2; proc++) {
    const secs = new Map<number, number>();
    for (let sec = 0; sec < untilS; sec++) if (!(gap && gap.proc === proc && gap.sec === sec)) secs.set(sec, 5);
    all.set(proc, secs);
  }
  return all;
}

test('seconds after the deadline are not checked, however long the processes took to exit', { timeout: 5000 }, () => {
  // A 20 s run whose processes took 3.5 s to exit: seconds 20–22 have no writes by design.
  const r = starvationInvariant(writes(20), 2, 23.5, 20, []);
  assert.ok(r.pass, r.detail);
  assert.match(r.detail, /^36 process-seconds/);
});

test('a process without a write in a second of the run fails the check, naming it', { timeout: 5000 }, () => {
  const r = starvationInvariant(writes(20, { proc: 1, sec: 7 }), 2, 20, 20, []);
  assert.equal(r.pass, false);
  assert.match(r.detail, /process 1 in second 7/);
});

test("a fault's window, with a second either side, is left out", { timeout: 5000 }, () => {
  const fault: FaultEvent = { t: 6200, untilT: 7400, kind: 'foreign-lock', detail: 'held' };
  assert.ok(starvationInvariant(writes(20, { proc: 0, sec: 7 }), 2, 20, 20, [fault]).pass);
  // A fault that has not ended (no untilT) leaves nothing out.
  assert.equal(starvationInvariant(writes(20, { proc: 0, sec: 7 }), 2, 20, 20, [{ ...fault, untilT: undefined }]).pass, false);
});
