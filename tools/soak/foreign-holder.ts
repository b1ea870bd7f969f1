/**
 * The `foreign-lock` fault: a plain @duckdb/node-api process (not Bolt) that tries to open
 * the database file until `untilEpochMs`; if it gets it (no host held it at that moment), it
 * holds it for `holdMs`, then lets go. Prints "held <ms>" or "missed". argv: path holdMs untilEpochMs
 */
import { DuckDBInstance } from '@duckdb/node-api';

const [path, holdText, untilText] = process.argv.slice(2);
const holdMs = Number(holdText);
const until = Number(untilText);

async function main(): Promise<void> {
  while (Date.now() < until) {
    try {
      const inst = await DuckDBInstance.create(path!);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, holdMs));
      inst.closeSync();
      process.stdout.write(`held ${Date.now() - t0}\n`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  process.stdout.write('missed\n');
}

await main();
