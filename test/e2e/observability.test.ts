import { ROLES as CONTRACT_ROLES } from '@im/contracts';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { freePort, Fleet, type FleetRole } from '../support/fleet';
import { randomUserBase, testServers } from '../support/env';
import { GatewaySimulator } from '../support/gateway';
import { waitFor } from '../support/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROLES: readonly FleetRole[] = CONTRACT_ROLES;

interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

/** Every PromQL expression of the dashboard, with its variables set to match everything. */
function dashboardExprs(): { title: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(join(ROOT, 'infra/grafana/dashboards/im-message.json'), 'utf8'));
  const out: { title: string; expr: string }[] = [];
  for (const panel of dash.panels) {
    for (const t of panel.targets ?? []) out.push({ title: panel.title, expr: String(t.expr).replaceAll('$role', '.*').replaceAll('$instance', '.*') });
  }
  return out;
}

/** Every alert expression of infra/prometheus/alerts.yml (the file is read as text: one `expr:` per rule). */
function alertExprs(): { alert: string; expr: string }[] {
  const text = readFileSync(join(ROOT, 'infra/prometheus/alerts.yml'), 'utf8');
  const out: { alert: string; expr: string }[] = [];
  const blocks = text.split(/\n\s*- alert:\s*/).slice(1);
  for (const block of blocks) {
    const name = block.split('\n')[0]!.trim();
    const m = /\n(\s*)expr:\s*(\|-?|>-?)?\s*\n?([\s\S]*?)(?=\n\1[a-z_]+:)/.exec(block);
    assert.ok(m, `cannot find the expr of ${name}`);
    out.push({ alert: name, expr: m[3]!.split('\n').map((l) => l.trim()).join(' ').trim() });
  }
  return out;
}

describe('observability: a real Prometheus scrapes the running fleet', () => {
  let db: TestDatabase;
  let fleet: Fleet;
  let gateway: GatewaySimulator;
  let prometheus: ChildProcess;
  let promUrl = '';
  let dir = '';

  const query = async (expr: string): Promise<PromResult> => {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await r.json()) as PromResult;
  };

  before(async () => {
    db = await createTestDatabase();
    fleet = await new Fleet(db.url, { IM_CLEANER_INTERVAL_S: '1', IM_MESSAGE_LIMITS_MAX_OFFLINE_MESSAGES: '3' }).startAll(ROLES);
    dir = mkdtempSync(join(tmpdir(), 'im-prom-'));
    const scrape = ROLES.map((role) => `  - job_name: ${role}\n    static_configs:\n      - targets: ["127.0.0.1:${fleet.procs.get(role)!.port}"]`).join('\n');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${join(ROOT, 'infra/prometheus/alerts.yml')}\nscrape_configs:\n${scrape}\n`,
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: 'ignore',
    });
    await waitFor('prometheus ready', async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000);

    // A short load that exercises every part: single and group sends, online and offline
    // receivers, acks, pulls, a rejected send, and offline rows over the cap for the cleaner.
    const base = randomUserBase();
    const users = Array.from({ length: 6 }, (_, i) => String(base + BigInt(i + 1)));
    for (const u of users) await fleet.api.put(`/v1/users/${u}`, { name: u });
    await fleet.api.put(`/v1/groups/${base + 100n}`, { name: 'obs' });
    await fleet.api.post(`/v1/groups/${base + 100n}/members`, { add: users });
    gateway = new GatewaySimulator(fleet.api);
    await gateway.connect(users.slice(0, 3));
    for (let round = 0; round < 8; round++) {
      const messages = users.flatMap((from, i) => users.filter((to) => to !== from).map((to) => ({ sender_id: from, receiver_id: to, content: `obs ${round} ${i}` })));
      await fleet.api.post('/v1/messages/batch', { messages });
      await fleet.api.post('/v1/group-messages', { sender_id: users[0], group_id: String(base + 100n), content: `group ${round}` });
      await fleet.api.post('/v1/messages', { sender_id: users[0], receiver_id: String(base + 99n), content: 'to nobody' });
      for (const u of users.slice(3)) await fleet.api.get(`/v1/users/${u}/offline-messages?limit=1`);
      const heard = gateway.received.map((r) => r.payload.message_id).slice(-20);
      if (heard.length > 0) await gateway.ack(users[1]!, heard);
      await new Promise((r) => setTimeout(r, 700));
    }
  });

  after(async () => {
    prometheus?.kill('SIGTERM');
    await gateway?.close();
    await fleet?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every role', async () => {
    const up = await waitFor('all five targets up', async () => {
      const r = await query('up == 1');
      return (r.data?.result.length ?? 0) === ROLES.length ? r : undefined;
    });
    assert.equal(up.status, 'success');
  });

  it('answers every dashboard query with at least one series', async () => {
    const exprs = dashboardExprs();
    assert.ok(exprs.length >= 20, `the dashboard has ${exprs.length} queries`);
    for (const { title, expr } of exprs) {
      const r = await waitFor(
        `series for "${title}": ${expr}`,
        async () => {
          const res = await query(expr);
          assert.equal(res.status, 'success', `${title}: ${res.error}`);
          return (res.data?.result.length ?? 0) > 0 ? res : undefined;
        },
        30_000,
      );
      assert.equal(r.status, 'success');
    }
  });

  it('evaluates every alert rule without error', async () => {
    const alerts = alertExprs();
    assert.ok(alerts.length >= 7, `alerts.yml has ${alerts.length} alerts`);
    for (const { alert, expr } of alerts) {
      const r = await query(expr);
      assert.equal(r.status, 'success', `${alert}: ${r.error} in ${expr}`);
    }
    const rules = await waitFor('rule groups evaluated', async () => {
      const r = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((x) => x.health !== 'unknown') ? all : undefined;
    });
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    // A healthy fleet under this load pages nobody for a role being down.
    const firing = await query('ALERTS{alertname="RoleDown", alertstate="firing"}');
    assert.deepEqual(firing.data?.result, []);
  });
});
