/**
 * The dashboard of `bolt start --http` and `bolt dashboard`, through real processes, a real
 * HTTP client and real headless Chromium: the page shows tasks finishing by itself and retries
 * a dead task from its button; /metrics counters only grow and agree with the queue; the API
 * refuses other hosts, other origins and missing tokens; task text is never run as HTML.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect } from 'node:net';
import { ConcurrentDatabase } from '../index.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { tempDir } from './helpers/tmp.js';
import { spawnBolt } from './helpers/runtime-process.js';
import { runBolt } from './helpers/cli.js';
import { writeTestAgents } from './helpers/agents-fixture.js';
import { waitFor } from './helpers/wait.js';
import { decodePng, distinctColors } from './helpers/png.js';
import { PG_SKIP, PG_URL, freshPgDatabase } from './helpers/pg.js';

const ENV = { BOLT_LEASE_MS: '3000', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20', BOLT_RETRY_BASE_MS: '20', BOLT_RETRY_CAP_MS: '40' };
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const XSS = '<img src=x onerror="window.__owned=1">';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** `bolt start --http` with the test agents; its dashboard URL and a queue on the same database. */
async function startRuntime(t: TestContext, extra: string[] = []): Promise<{ url: string; queue: TaskQueue; dir: string }> {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  const rt = spawnBolt(t, ['start', '--agents', '2', '--db', path, '--agent-module', writeTestAgents(dir), '--http', '127.0.0.1:0', ...extra], {
    cwd: dir,
    env: ENV,
  });
  const line = await rt.waitForLine(/^dashboard: /, 60_000);
  const url = /http:\/\/[^/ ]+/.exec(line)![0];
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  return { url, queue: new TaskQueue(db), dir };
}

/** Values of one metric by its label text, e.g. `agent="echo",status="done"`. */
function metric(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

test('API and /metrics: counters only grow and agree with the queue; other hosts, origins and bad input are refused', { timeout: 120_000 }, async (t) => {
  const { url, queue } = await startRuntime(t);
  const scrapes: Array<Map<string, number>> = [];
  for (let i = 0; i < 40; i++) await queue.submit('echo', { i });
  for (let i = 0; i < 40; i++) {
    await queue.submit('echo', { i: 100 + i });
    if (i % 10 === 0) scrapes.push(metric((await http(`${url}/metrics`)).body, 'bolt_tasks_finished_total'));
  }
  await waitFor(async () => (await queue.counts()).done === 80, 60_000, '80 tasks done');
  await waitFor(
    async () => metric((await http(`${url}/metrics`)).body, 'bolt_tasks_finished_total').get('agent="echo",status="done"') === 80,
    10_000,
    'the counter reaches 80',
  );
  scrapes.push(metric((await http(`${url}/metrics`)).body, 'bolt_tasks_finished_total'));
  for (let i = 1; i < scrapes.length; i++) {
    for (const [k, v] of scrapes[i - 1]!) assert.ok((scrapes[i]!.get(k) ?? 0) >= v, `${k} went down: ${v} → ${scrapes[i]!.get(k)}`);
  }
  const text = (await http(`${url}/metrics`)).body;
  for (const name of [
    'bolt_tasks_queued',
    'bolt_task_duration_seconds_count',
    'bolt_task_wait_seconds_count',
    'bolt_agents',
    'bolt_db_pool_connections',
    'process_cpu_user_seconds_total',
  ]) {
    assert.match(text, new RegExp(`^${name}`, 'm'), name);
  }
  // Queue gauges and the status are read at most once a second: they catch up within it.
  await waitFor(
    async () => metric((await http(`${url}/metrics`)).body, 'bolt_tasks_queued').get('agent="echo",status="done"') === 80,
    10_000,
    'the queue gauge shows 80 done',
  );
  await waitFor(
    async () => (JSON.parse((await http(`${url}/api/status`)).body) as { counts: { done: number } }).counts.done === 80,
    10_000,
    'the status shows 80 done',
  );
  assert.equal(metric(text, 'bolt_agents').get('state="idle"'), 2);

  // Schedules and group limits show in the status (read every 5 s).
  await queue.setSchedule('nightly', { cron: '0 2 * * *', agent: 'echo' });
  await queue.setGroupLimit('customer-42', { concurrency: 3 });
  await waitFor(
    async () => {
      const s = JSON.parse((await http(`${url}/api/status`)).body) as { schedules?: Array<{ name: string }>; groups?: Array<{ group: string }> };
      return s.schedules?.[0]?.name === 'nightly' && s.groups?.[0]?.group === 'customer-42';
    },
    15_000,
    'the status lists the schedule and the group limit',
  );
  const status = JSON.parse((await http(`${url}/api/status`)).body) as { healthy: boolean; counts: Record<string, number>; runtime: { agents: unknown[] } };
  assert.equal(status.healthy, true);
  assert.equal(status.counts.done, 80);
  assert.equal(status.runtime.agents.length, 2);
  const tasks = JSON.parse((await http(`${url}/api/tasks?status=done&agent=echo&limit=5`)).body) as { tasks: Array<{ status: string }> };
  assert.equal(tasks.tasks.length, 5);

  // Refused: a foreign Host (DNS rebinding), a foreign Origin, a form post, bad input, unknown paths.
  const port = new URL(url).port;
  assert.equal((await http(`${url}/api/status`, { headers: { Host: `evil.example:${port}` } })).status, 421);
  const json = { 'Content-Type': 'application/json' };
  const [one] = await queue.list({ limit: 1 });
  assert.equal(
    (await http(`${url}/api/tasks/${one!.id}/retry`, { method: 'POST', headers: { ...json, Origin: 'http://evil.example' }, body: '{}' })).status,
    403,
  );
  assert.equal(
    (await http(`${url}/api/tasks/${one!.id}/retry`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' })).status,
    400,
  );
  assert.equal((await http(`${url}/api/tasks?status=nope`)).status, 400);
  assert.equal((await http(`${url}/api/tasks/999999`)).status, 404);
  assert.equal((await http(`${url}/nope`)).status, 404);
  assert.equal((await http(`${url}/api/purge`, { method: 'POST', headers: json, body: '[1' })).status, 400);
  const bad = await http(`${url}/api/purge`, { method: 'POST', headers: json, body: JSON.stringify({ olderThanMs: -1 }) });
  assert.equal(JSON.parse(bad.body).error.code, 'BOLT_BAD_INPUT');
  // Still serving, and purge works.
  const purged = JSON.parse((await http(`${url}/api/purge`, { method: 'POST', headers: { ...json, Origin: url }, body: '{}' })).body) as { purged: number };
  assert.equal(purged.purged, 80);
});

test('an address other than loopback needs a token, and then every request carries it', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const refused = await runBolt(['dashboard', '--db', join(dir, 'a.db'), '--http', '0.0.0.0:0'], { cwd: dir, env: { BOLT_HTTP_TOKEN: '' } });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--http-token/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');

  const token = 'a-test-token-of-some-length';
  // A database that is not there is refused, not created (a mistyped path served an empty queue).
  const missing = await runBolt(['dashboard', '--db', join(dir, 'a.db'), '--http', '127.0.0.1:0'], { cwd: dir });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^error \[BOLT_NOT_FOUND\]: no database at /);
  assert.ok(!existsSync(join(dir, 'a.db')), 'nothing created');
  assert.equal((await runBolt(['submit', 'echo', '--db', join(dir, 'a.db')], { cwd: dir })).code, 0);

  const d = spawnBolt(t, ['dashboard', '--db', join(dir, 'a.db'), '--http', '0.0.0.0:0', '--http-token', token], { cwd: dir });
  const url = /http:\/\/[^/ ]+/.exec(await d.waitForLine(/^dashboard: /, 60_000))![0].replace('0.0.0.0', '127.0.0.1');
  assert.equal((await http(`${url}/api/status`)).status, 401);
  assert.equal((await http(`${url}/metrics`)).status, 401);
  assert.equal((await http(`${url}/api/status`, { headers: { Authorization: 'Bearer wrong-token-of-some-length' } })).status, 401);
  assert.equal((await http(`${url}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  const login = await http(`${url}/?token=${token}`);
  assert.equal(login.status, 303);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
  assert.equal((await http(`${url}/api/status`, { headers: { Cookie: cookie } })).status, 200);
  d.child.kill('SIGINT');
  assert.equal((await d.exited).code, 0);
});

test('the page in headless Chromium: tasks finish on screen, a dead task is retried from its button, task text stays text', { timeout: 150_000 }, async (t) => {
  if (!CHROMIUM) {
    if (process.env.CI) assert.fail('Chromium is not installed (.ci/run installs it)');
    t.skip('Chromium is not installed');
    return;
  }
  const { url, queue, dir } = await startRuntime(t);
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'chrome')}`],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 1400 });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.accept();
  });
  await page.goto(`${url}/`);
  await page.waitForFunction("document.getElementById('conn')?.textContent === 'live'", { timeout: 30_000 });

  for (let i = 0; i < 10; i++) await queue.submit('echo', { n: i, note: XSS });
  const { id: deadId } = await queue.submit('fail', { note: XSS }, { maxAttempts: 1 });
  // The page shows them finished without a reload.
  await page.waitForFunction(
    `document.querySelector('.card[data-status="done"] b')?.textContent === '10' && document.querySelector('.card[data-status="dead"] b')?.textContent === '1'`,
    { timeout: 60_000 },
  );
  await page.waitForSelector(`tr[data-id="${deadId}"][data-status="dead"] button[data-action="retry"]`, { timeout: 30_000 });
  const firstRun = (await queue.get(deadId)).finishedAt!;
  await page.click(`tr[data-id="${deadId}"][data-status="dead"] button[data-action="retry"]`);
  // It runs again (and fails again: dead once more, finished later).
  await waitFor(
    async () => {
      const task = await queue.get(deadId);
      return task.status === 'dead' && task.finishedAt !== null && task.finishedAt > firstRun;
    },
    30_000,
    'the retried task ran again',
  );
  await page.waitForSelector(`tr[data-id="${deadId}"][data-status="dead"]`, { timeout: 10_000 });
  assert.ok(
    dialogs.some((d) => d.startsWith('confirm') && d.includes(`retry task ${deadId}`)),
    `retry asked for confirmation: ${dialogs.join(' | ')}`,
  );
  // The detail view shows the payload as text; nothing in it ran.
  await page.click(`tr[data-id="${deadId}"] td`);
  await page.waitForFunction("(document.getElementById('d-body')?.textContent ?? '').includes('onerror')", { timeout: 10_000 });
  assert.equal(await page.evaluate('window.__owned'), undefined, 'task text was run as HTML');
  assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);

  // The chart draws the run time line (once a status poll has brought the finished tasks'
  // times); on a phone's width nothing needs horizontal scrolling.
  await page.waitForSelector('#chart polyline', { timeout: 10_000 });
  assert.equal(await page.$$eval('#chart polyline', (l) => l.length), 1);
  await page.setViewport({ width: 390, height: 844 });
  await page.waitForFunction('document.documentElement.scrollWidth <= 390', { timeout: 10_000 });
  await page.screenshot({ path: join(dir, 'dashboard-phone.png') });
  await page.setViewport({ width: 1100, height: 1400 });
  const shot = join(dir, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  const png = decodePng(readFileSync(shot));
  assert.equal(png.width, 1100);
  assert.ok(distinctColors(png) > 8, 'the page is not blank');
  t.diagnostic(`screenshot: ${shot}`);
});

test('a dashboard that loses its database says so on the page and recovers by itself', { skip: PG_SKIP, timeout: 120_000 }, async (t) => {
  const { tcp } = await freshPgDatabase(t);
  const name = new URL(tcp).pathname.slice(1);
  const dir = tempDir(t);
  const d = spawnBolt(t, ['dashboard', '--db', tcp, '--http', '127.0.0.1:0'], { cwd: dir });
  const url = /http:\/\/[^/ ]+/.exec(await d.waitForLine(/^dashboard: /, 60_000))![0];
  const health = async (): Promise<{ healthy: boolean; error?: { code: string } }> => JSON.parse((await http(`${url}/api/status`)).body);
  assert.equal((await health()).healthy, true);

  const browser = CHROMIUM
    ? await (
        await import('puppeteer-core')
      ).default.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', `--user-data-dir=${join(dir, 'chrome')}`] })
    : undefined;
  if (!browser && process.env.CI) assert.fail('Chromium is not installed (.ci/run installs it)');
  t.after(() => browser?.close());
  const page = await browser?.newPage();
  await page?.goto(`${url}/`);
  await page?.waitForFunction("document.getElementById('conn')?.textContent === 'live'", { timeout: 30_000 });

  // The database goes away: no new connections, and the open ones are cut.
  const admin = await ConcurrentDatabase.open(PG_URL!, { maxConnections: 1 });
  t.after(() => admin.close());
  await admin.execute(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?', [name]);
  await waitFor(async () => !(await health()).healthy, 30_000, 'the status reports the database unreachable');
  assert.ok((await health()).error?.code, 'with the error');
  await page?.waitForFunction("!document.getElementById('down').hidden && document.getElementById('down').textContent.includes('cannot be reached')", {
    timeout: 30_000,
  });

  // It comes back: the dashboard recovers without a restart.
  await admin.execute(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
  await waitFor(async () => (await health()).healthy, 30_000, 'the status reports the database back');
  await page?.waitForFunction("document.getElementById('down').hidden && document.getElementById('conn').textContent === 'live'", { timeout: 30_000 });
  d.child.kill('SIGINT');
  assert.equal((await d.exited).code, 0);
});

test('--http values: a port alone, host:port, [v6]:port; bad ones are BOLT_BAD_INPUT', async () => {
  const { parseHttpAddress } = await import('../tools/http-address.js');
  assert.deepEqual(parseHttpAddress('7070'), { host: '127.0.0.1', port: 7070, loopback: true });
  assert.deepEqual(parseHttpAddress(':0'), { host: '127.0.0.1', port: 0, loopback: true });
  assert.deepEqual(parseHttpAddress('0.0.0.0:80'), { host: '0.0.0.0', port: 80, loopback: false });
  assert.deepEqual(parseHttpAddress('[::1]:9'), { host: '::1', port: 9, loopback: true });
  assert.deepEqual(parseHttpAddress('localhost:65535'), { host: 'localhost', port: 65535, loopback: true });
  for (const bad of ['99999', '65536', 'abc', 'host:', '', '[::1]', '1.2.3.4:70000', '-1']) {
    assert.throws(() => parseHttpAddress(bad), { code: 'BOLT_BAD_INPUT' }, bad);
  }
});

test(
  'careless and hostile requests: answers, not crashes; text search reaches every task; a killed host is a failover the dashboard counts',
  { timeout: 120_000 },
  async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'a.db');
    const token = 'a-test-token-of-some-length';
    // The runtime hosts the file; the dashboard is its client.
    const rt = spawnBolt(t, ['start', '--agents', '1', '--db', path], { cwd: dir, env: ENV });
    await rt.waitForLine(/^ready: /, 60_000);
    const d = spawnBolt(t, ['dashboard', '--db', path, '--http', '127.0.0.1:0', '--http-token', token], { cwd: dir });
    const url = /http:\/\/[^/ ]+/.exec(await d.waitForLine(/^dashboard: /, 60_000))![0];
    const auth = { Authorization: `Bearer ${token}` };
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    const queue = new TaskQueue(db);
    const { id: needle } = await queue.submit('echo', { marker: 'Needle_50%' });
    await queue.submitMany(Array.from({ length: 510 }, (_, i) => ({ agent: 'echo', payload: { i } })));
    const found = JSON.parse((await http(`${url}/api/tasks?q=${encodeURIComponent('needle_50%')}`, { headers: auth })).body) as {
      tasks: Array<{ id: number }>;
    };
    assert.deepEqual(
      found.tasks.map((x) => x.id),
      [needle],
    );
    const wildcard = JSON.parse((await http(`${url}/api/tasks?q=${encodeURIComponent('%')}`, { headers: auth })).body) as { tasks: Array<{ id: number }> };
    assert.deepEqual(
      wildcard.tasks.map((x) => x.id),
      [needle],
      'LIKE wildcards in q match themselves',
    );

    assert.equal((await http(`${url}/api/status`, { headers: { Cookie: 'bolt_token=%' } })).status, 401);
    assert.equal((await http(`${url}/api/status`, { headers: { Cookie: `bolt_token=junk; bolt_token=${token}` } })).status, 200);
    const head = await http(`${url}/api/events`, { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    const put = await http(`${url}/api/status`, { method: 'PUT', headers: auth });
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, HEAD, POST');
    assert.equal((await http(`${url}/api/purge`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/jsonx' }, body: '{}' })).status, 400);
    const raw = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(url);
      const s = connect(Number(port), '127.0.0.1', () => s.end('GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      let out = '';
      s.on('data', (b: Buffer) => (out += b.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400/);
    assert.equal((await http(`${url}/api/status`, { headers: auth })).status, 200, 'still serving');

    // The host dies: the dashboard takes the file over, says it was a failover, and keeps serving.
    rt.child.kill('SIGKILL');
    await waitFor(
      async () => {
        const s = JSON.parse((await http(`${url}/api/status`, { headers: auth })).body) as { healthy: boolean; database: { failovers: number } };
        return s.healthy && s.database.failovers >= 1;
      },
      60_000,
      'a healthy status that counts the failover',
    );
    assert.match((await http(`${url}/metrics`, { headers: auth })).body, /^bolt_db_failovers_total [1-9]/m);
  },
);

test('every runtime attached to the queue shows, idle ones too, and leaves when it stops', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  const env = { ...ENV, BOLT_HEALTH_MS: '200' };
  const a = spawnBolt(t, ['start', '--agents', '1', '--db', path, '--http', '127.0.0.1:0'], { cwd: dir, env });
  const url = /http:\/\/[^/ ]+/.exec(await a.waitForLine(/^dashboard: /, 60_000))![0];
  const b = spawnBolt(t, ['start', '--agents', '3', '--db', path], { cwd: dir, env });
  const idB = /runtime (\S+) with/.exec(await b.waitForLine(/^ready: /, 60_000))![1]!;
  const runtimes = async () =>
    (JSON.parse((await http(`${url}/api/status`)).body) as { runtimes?: Array<{ id: string; agents?: number; pid?: number }> }).runtimes ?? [];
  await waitFor(async () => (await runtimes()).length === 2, 30_000, 'both runtimes listed');
  const other = (await runtimes()).find((r) => r.id === idB);
  assert.equal(other?.agents, 3);
  assert.equal(other?.pid, b.pid);
  b.child.kill('SIGINT');
  assert.equal((await b.exited).code, 0);
  await waitFor(async () => !(await runtimes()).some((r) => r.id === idB), 30_000, 'the stopped runtime leaves the list');
});
