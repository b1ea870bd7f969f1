/**
 * The "nobody starves" invariant: every soak process completed writes in every second of the
 * run — not just on average. Seconds in which a fault kept every writer off (a foreign program
 * holding SQLite's lock, a killed process restarting, and the second before a kill, whose
 * metrics the killed process never wrote) are left out, and so are the first and
 * the last second of the run (start-up, wind-down). Processes stop writing at the deadline, so
 * nothing after it is checked, however long they took to exit.
 */
import type { FaultEvent, InvariantResult } from './soak-result.js';

export function starvationInvariant(
  perProcess: ReadonlyMap<number, ReadonlyMap<number, number>>,
  processes: number,
  elapsedS: number,
  durationS: number,
  faults: readonly FaultEvent[],
): InvariantResult {
  const excluded = new Set<number>();
  for (const f of faults) {
    if (f.untilT === undefined) continue;
    // A SIGKILLed process loses the metrics of its last second (op-recorder.ts flushes once a second).
    const from = f.kind === 'kill-host' ? f.t - 1000 : f.t;
    for (let s = Math.floor(from / 1000); s <= Math.ceil((f.untilT + 1000) / 1000); s++) excluded.add(s);
  }
  const last = Math.floor(Math.min(elapsedS, durationS)) - 2;
  const starved: string[] = [];
  let fewest: { n: number; proc: number; sec: number } | undefined;
  let checked = 0;
  for (let proc = 0; proc < processes; proc++) {
    for (let sec = 1; sec <= last; sec++) {
      if (excluded.has(sec)) continue;
      checked++;
      const n = perProcess.get(proc)?.get(sec) ?? 0;
      if (n === 0) starved.push(`process ${proc} in second ${sec}`);
      if (!fewest || n < fewest.n) fewest = { n, proc, sec };
    }
  }
  const skipped = excluded.size ? `; ${excluded.size} seconds left out while a fault held every writer off` : '';
  return {
    name: 'every process completed writes in every second (nobody starves)',
    pass: starved.length === 0,
    detail: starved.length
      ? `${starved.length} of ${checked} process-seconds without a completed write: ${starved.slice(0, 8).join(', ')}${starved.length > 8 ? ', …' : ''}${skipped}`
      : `${checked} process-seconds, each with completed writes (fewest: ${fewest?.n ?? 0}, process ${fewest?.proc} in second ${fewest?.sec})${skipped}`,
  };
}
