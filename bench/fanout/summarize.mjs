#!/usr/bin/env node
// summarize.mjs DIR: the table of a `make bench-live` run (scripts/bench-live.sh) from the
// RESULT files the load client (edgeclass-loadtest live or fanout-bench.mjs) wrote there (<students>x<rate>-<target>-<run>.json): every run
// of every case, then per case and target the spread (min / median / max), and edgeclass's
// P99 against the peer's.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: summarize.mjs DIR'); process.exit(2); }
const runs = [];
for (const f of readdirSync(dir)) {
  const m = f.match(/^(\d+)x(\d+)-(edgeclass|edgeclass-base|edgeclass-nospread|edgeclass-sendmsg|peer)-(\d+)\.json$/);
  if (!m) continue;
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  // perf stat -x, output (scripts/bench-live.sh): "count,,event,..." per line.
  const sc = join(dir, f.replace(/\.json$/, '.syscalls'));
  if (existsSync(sc) && r.delivered) {
    let calls = 0;
    for (const line of readFileSync(sc, 'utf8').split('\n')) {
      const parts = line.split(',');
      if (parts.length > 2 && /syscalls:sys_enter_(sendmsg|write|writev|io_uring_enter)$/.test(parts[2])) calls += Number(parts[0]) || 0;
    }
    if (calls) r.deliveries_per_send_call = r.delivered / calls;
  }
  // scripts/bench-live.sh: "<tid> <ticks>" per server thread during the chat. The busiest
  // thread's share of the server's CPU (100 %: one thread did all the work).
  const th = join(dir, f.replace(/\.json$/, '.threads'));
  if (existsSync(th)) {
    const ticks = readFileSync(th, 'utf8').split('\n').map((l) => Number(l.split(' ')[1])).filter((x) => x > 0);
    const total = ticks.reduce((a, b) => a + b, 0);
    if (total > 0) {
      r.top_thread_share = (100 * Math.max(...ticks)) / total;
      r.busy_threads = ticks.filter((x) => x >= 0.1 * total).length;
    }
  }
  // scripts/bench-live.sh (BENCH_LIVE_CORE_SAMPLE): the server core sampled during the chat,
  // in ms ("<kind> <ms>" lines): server (its threads), rx_outside (receive processing on the
  // core outside them), idle, other (other processes), then "other:<comm> <ms>". The server's
  // share of its core per delivery (its threads plus rx_outside) does not count what other
  // processes took from a busy box; "other" says how quiet the core was.
  const core = join(dir, f.replace(/\.json$/, '.core'));
  if (existsSync(core)) {
    const k = {};
    const others = [];
    for (const line of readFileSync(core, 'utf8').split('\n')) {
      const [name, v] = line.trim().split(/\s+/);
      if (!name || !Number.isFinite(Number(v))) continue;
      if (name.startsWith('other:')) others.push(`${name.slice(6)} ${v}`);
      else k[name] = Number(v);
    }
    const total = (k.server || 0) + (k.rx_outside || 0) + (k.idle || 0) + (k.other || 0);
    if (total > 0) {
      r.core_other_pct = (100 * (k.other || 0)) / total;
      r.core_rx_outside_ms = k.rx_outside || 0;
      // One sample per ms of the window when nothing is lost; a sample cannot land while the
      // core has interrupts disabled (on this VM, much of softirq and IPI handling), so the
      // sampled figures are lower bounds, by this much.
      if (r.chat_wall_ms) r.core_coverage_pct = (100 * total) / r.chat_wall_ms;
      if (k.server) r.core_rps_ipi_pct = (100 * (k.server_rps_ipi || 0)) / k.server;
      if (k.server) r.core_softirq_pct = (100 * (k.server_softirq || 0)) / k.server;
      // The server's threads outside softirq: its system calls and its own code, without any
      // receive processing (on loopback the students' receive runs in softirq inside the
      // server's sends; with veth and RPS its own ACKs arrive in softirq): comparable across
      // both setups.
      if (r.delivered && k.server_softirq != null) r.core_own_us_per_delivery = ((k.server - k.server_softirq) * 1000) / r.delivered;
      if (r.delivered) r.core_server_us_per_delivery = (((k.server || 0) + (k.rx_outside || 0)) * 1000) / r.delivered;
      r.core_others = others.slice(0, 3).join(', ');
    }
  }
  runs.push({ case: `${m[1]} x ${m[2]}/s`, n: +m[1], rate: +m[2], target: m[3], run: +m[4], r });
}
runs.sort((a, b) => a.n - b.n || a.rate - b.rate || a.target.localeCompare(b.target) || a.run - b.run);

const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '-' : x.toFixed(d));
const med = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const spread = (xs, d = 1) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? `${f(s[0], d)} / ${f(med(s), d)} / ${f(s[s.length - 1], d)}` : '-';
};

// edgeclass-loadtest live names itself in "client"; fanout-bench.mjs does not.
console.log(`Load client: ${[...new Set(runs.map((x) => x.r.client || 'fanout-bench.mjs'))].join(', ')}`);
console.log('Every run (delays in ms; us/dlv = server CPU per delivery during the chat: the process\'s utime + stime;');
console.log('core/dlv = the server core\'s busy time from /proc/stat per delivery (the process plus softirq on the core outside it and');
console.log('anything else that ran there: the honest figure when the core is quiet); smp/dlv = the server core sampled (perf): the');
console.log('server\'s threads plus receive processing on its core outside them, per delivery; other = the share of the server core');
console.log('other processes had (how quiet it was); own/dlv = the server\'s threads outside softirq (its system calls and code, no');
console.log('receive processing: comparable between loopback and veth) per delivery; drops = receive backlog drops):');
console.log('(dlv/call: deliveries per send system call during the chat, from perf stat; 1 = no batching)');
console.log('(top thr: the busiest server thread\'s share of the server\'s CPU during the chat, and how many threads had 10 % or more)');
console.log('case            target             run  delivered/expected dups disord  P50    P99    P999   max    us/dlv  core/dlv smp/dlv own/dlv other  drops dlv/call KB/conn  top thr   load(chat)');
for (const { case: c, target, run, r } of runs) {
  if (r.error) { console.log(`${c.padEnd(15)} ${target.padEnd(18)} ${String(run).padEnd(4)} ERROR ${r.error}`); continue; }
  const top = r.top_thread_share == null ? '-' : `${f(r.top_thread_share, 0)}% (${r.busy_threads})`;
  console.log(`${c.padEnd(15)} ${target.padEnd(18)} ${String(run).padEnd(4)} ${`${r.delivered}/${r.expected}`.padEnd(18)} ${String(r.dups).padEnd(4)} ${String(r.disorder).padEnd(6)} ` +
    `${f(r.p50_ms).padEnd(6)} ${f(r.p99_ms).padEnd(6)} ${f(r.p999_ms).padEnd(6)} ${f(r.max_ms).padEnd(6)} ${f(r.server_us_per_delivery, 2).padEnd(7)} ${f(r.server_core_us_per_delivery, 2).padEnd(8)} ${f(r.core_server_us_per_delivery, 2).padEnd(7)} ${f(r.core_own_us_per_delivery, 2).padEnd(7)} ${(r.core_other_pct == null ? '-' : `${f(r.core_other_pct)}%`).padEnd(6)} ${String(r.backlog_drops ?? '-').padEnd(5)} ${f(r.deliveries_per_send_call, 2).padEnd(8)} ${f(r.kb_per_conn, 2).padEnd(8)} ${top.padEnd(9)} ${r.load_chat}`);
}
const quiz = runs.filter((x) => x.r.quiz_opened != null);
if (quiz.length) {
  console.log('\nQuiz (edgeclass): opening = teacher\'s quiz_publish -> each student\'s quiz_published (the publish commit included);');
  console.log('acks = answer_accepted after the group commit; results = the teacher\'s quiz_results counting every answer');
  console.log('case            target             run  opened  open P50  open P99  open max  acked   ack P99   results: all counted after publish / after last answer, updates');
  for (const { case: c, target, run, r } of quiz) {
    console.log(`${c.padEnd(15)} ${target.padEnd(18)} ${String(run).padEnd(4)} ${String(r.quiz_opened).padEnd(7)} ${f(r.quiz_open_p50_ms).padEnd(9)} ${f(r.quiz_open_p99_ms).padEnd(9)} ${f(r.quiz_open_max_ms).padEnd(9)} ` +
      `${String(r.quiz_acked).padEnd(7)} ${f(r.quiz_ack_p99_ms).padEnd(9)} ${f(r.quiz_results_all_ms)} / ${f(r.quiz_results_after_last_answer_ms)} ms, ${r.quiz_results_events}`);
  }
}
console.log('\nSpread per case (min / median / max over the runs):');
const cases = [...new Set(runs.map((x) => x.case))];
for (const c of cases) {
  const by = {};
  for (const t of ['edgeclass', 'edgeclass-base', 'edgeclass-nospread', 'edgeclass-sendmsg', 'peer']) {
    const rs = runs.filter((x) => x.case === c && x.target === t && !x.r.error).map((x) => x.r);
    if (!rs.length) continue;
    by[t] = rs;
    const lost = rs.reduce((a, r) => a + (r.expected - r.delivered), 0);
    const bad = rs.reduce((a, r) => a + r.dups + r.disorder, 0);
    console.log(`${c} ${t}: ${rs.length} runs; P50 ${spread(rs.map((r) => r.p50_ms))} ms; P99 ${spread(rs.map((r) => r.p99_ms))} ms; ` +
      `max ${spread(rs.map((r) => r.max_ms))} ms; server CPU per delivery ${spread(rs.map((r) => r.server_us_per_delivery), 2)} us ` +
      `(the server core's busy time ${spread(rs.map((r) => r.server_core_us_per_delivery), 2)} us; sampled, the server's threads and receive ` +
      `processing on its core ${spread(rs.map((r) => r.core_server_us_per_delivery), 2)} us, outside softirq ${spread(rs.map((r) => r.core_own_us_per_delivery), 2)} us, ` +
      `of the threads' samples in softirq ${spread(rs.map((r) => r.core_softirq_pct))} % and in RPS IPIs to the client's core ${spread(rs.map((r) => r.core_rps_ipi_pct))} %, ` +
      `others on the core ${spread(rs.map((r) => r.core_other_pct))} %, samples per ms of the chat ${spread(rs.map((r) => r.core_coverage_pct))} %); ` +
      `KB per connection ${spread(rs.map((r) => r.kb_per_conn), 2)}; undelivered ${lost}, duplicates + out of order ${bad}`);
  }
  if (by.edgeclass && by.peer) {
    const e = med(by.edgeclass.map((r) => r.p99_ms)), p = med(by.peer.map((r) => r.p99_ms));
    const ce = med(by.edgeclass.map((r) => r.server_us_per_delivery)), cp = med(by.peer.map((r) => r.server_us_per_delivery));
    const ke = med(by.edgeclass.map((r) => r.server_core_us_per_delivery)), kp = med(by.peer.map((r) => r.server_core_us_per_delivery));
    console.log(`${c}: median P99 peer / edgeclass = ${f(p / e, 2)}x; CPU per delivery peer / edgeclass = ${f(cp / ce, 2)}x (server core: ${f(kp / ke, 2)}x)`);
  }
  if (by.edgeclass && by['edgeclass-nospread']) {
    const e = med(by.edgeclass.map((r) => r.p99_ms)), u = med(by['edgeclass-nospread'].map((r) => r.p99_ms));
    const ce = med(by.edgeclass.map((r) => r.server_us_per_delivery)), cu = med(by['edgeclass-nospread'].map((r) => r.server_us_per_delivery));
    console.log(`${c}: median P99 not spread / spread = ${f(u / e, 2)}x; CPU per delivery not spread / spread = ${f(cu / ce, 2)}x`);
  }
  if (by.edgeclass && by['edgeclass-base']) {
    const e = med(by.edgeclass.map((r) => r.p99_ms)), u = med(by['edgeclass-base'].map((r) => r.p99_ms));
    const ce = med(by.edgeclass.map((r) => r.server_us_per_delivery)), cu = med(by['edgeclass-base'].map((r) => r.server_us_per_delivery));
    console.log(`${c}: median P99 base / edgeclass = ${f(u / e, 2)}x; CPU per delivery base / edgeclass = ${f(cu / ce, 2)}x`);
  }
  if (by.edgeclass && by['edgeclass-sendmsg']) {
    const e = med(by.edgeclass.map((r) => r.p99_ms)), u = med(by['edgeclass-sendmsg'].map((r) => r.p99_ms));
    const ce = med(by.edgeclass.map((r) => r.server_us_per_delivery)), cu = med(by['edgeclass-sendmsg'].map((r) => r.server_us_per_delivery));
    console.log(`${c}: median P99 sendmsg per socket / io_uring = ${f(u / e, 2)}x; CPU per delivery sendmsg per socket / io_uring = ${f(cu / ce, 2)}x`);
  }
}
