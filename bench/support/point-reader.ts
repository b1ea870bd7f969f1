/**
 * A client process for the MCP bench: `node point-reader.js <db> <calls> <rows>` opens the
 * database through ConcurrentDatabase (a client of the bench process, which hosts it), reads
 * one row by primary key `calls` times after a warm-up, and prints the reads per second.
 */
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';

const [path, calls, rows] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x))) as [string, number, number];
const db = await ConcurrentDatabase.open(path);
const read = (i: number) => db.query('SELECT id, v FROM points WHERE id = ?', [(i * 7919) % rows]);
for (let i = 0; i < 300; i++) await read(i);
const t0 = performance.now();
for (let i = 0; i < calls; i++) await read(i);
process.stdout.write(`${(calls / ((performance.now() - t0) / 1000)).toFixed(1)}\n`);
await db.close();
