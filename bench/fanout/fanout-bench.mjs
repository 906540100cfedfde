#!/usr/bin/env node
// fanout-bench.mjs: one load client for live-chat fan-out, the same code against edgeclass and
// against fanout-peer.mjs (a plain Node `ws` broadcast server).
//
//   node fanout-bench.mjs --target edgeclass --url http://127.0.0.1:8080 --secret S [--bin B]
//   node fanout-bench.mjs --target peer      --url ws://127.0.0.1:8090/live
//        [--students 1000] [--messages 200] [--rate 20] [--pid SERVER_PID]
//        [--connect-concurrency 100] [--join-concurrency 32] [--drain-s 10] [--settle-ms 1500]
//        [--json FILE] [--label TEXT] [--quiz] [--ws-urls U1,U2,...]
//
// N receivers connect (edgeclass: students enrolled over REST with their own JWTs; peer: plain),
// then one sender (edgeclass: the course's teacher; peer: one more plain connection) sends M
// chat messages at R per second. Each text carries the send time (process.hrtime, this process,
// so the clocks agree); every receiver records send -> receive delay. Printed: connect time,
// delivered/expected, P50/P99/P999/max delay, the server's RSS (VmRSS of --pid) before and after
// connecting and KB per connection, the server's and this client's CPU during the chat, and any
// closes, duplicates or reordering. A last line "RESULT {json}" holds the figures.
// --quiz (edgeclass only), after the chat: the teacher publishes a one-question quiz over the
// socket; measured: publish -> each student's quiz_published (the opening's fan-out, the
// publish's commit included), every student answers at once, answer_accepted per student
// (after the group commit) and the teacher's live quiz_results until "answered" reaches N.
// Both targets: permessage-deflate off on the client (neither side compresses), one socket per
// receiver, a receiver is "connected" when its first frame (welcome) arrived.
// --ws-urls (edgeclass, a city of replicas): receiver i's socket goes to U[i % count], the
// sender's to U1 (REST setup goes to --url, the course's home); --pid may then list every
// replica's pid (comma-separated): RSS and CPU are their sums.
// --ping-rate R (edgeclass), after the chat (--messages 0: instead of it): every student sends R
// pings a second (the protocol's {"type":"ping"}, answered with a pong) for --ping-s seconds
// (5), spread evenly; measured: pongs received, the server's CPU per received message, and with
// --perf-syscalls FILE the server's system calls per received message (perf stat on the syscall
// tracepoints of --pid over the phase, written to FILE; bench/live-recv-syscalls.sh).
// Tokens for edgeclass are HS256 JWTs minted here (claims sub, name, role, iat, exp) with
// --secret; with --mint bin they come from `edgeclass token` (--bin) instead.
import WebSocket from 'ws';
import { execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import { parseArgs } from './args.mjs';

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(readFileSync(new URL(import.meta.url)).toString().split('\n').slice(1, 21).join('\n'));
  process.exit(0);
}
const int = (v, d) => (v === undefined || v === true ? d : Number.parseInt(v, 10));
const TARGET = String(args.target || 'edgeclass');
if (!['edgeclass', 'peer'].includes(TARGET)) { console.error('--target edgeclass|peer'); process.exit(2); }
const URL_ = String(args.url || (TARGET === 'peer' ? 'ws://127.0.0.1:8090/live' : 'http://127.0.0.1:8080')).replace(/\/+$/, '');
const SECRET = args.secret || process.env.EDGECLASS_JWT_SECRET || '';
const BIN = args.bin || process.env.EDGECLASS_BIN || 'edgeclass';
const MINT = args.mint === 'bin' ? 'bin' : 'local';
const N = int(args.students, 1000);
const M = int(args.messages, 200);
const RATE = Number(args.rate || 20);
const PIDS = args.pid ? String(args.pid).split(',').map((x) => Number.parseInt(x, 10)) : [];
const PID = PIDS.length ? PIDS.join(',') : null;
const WS_URLS = args['ws-urls'] ? String(args['ws-urls']).split(',').map((u) => u.replace(/\/+$/, '')) : null;
const CONNECT_CONC = int(args['connect-concurrency'], 100);
const JOIN_CONC = int(args['join-concurrency'], 32);
const DRAIN_S = Number(args['drain-s'] || 10);
const SETTLE_MS = int(args['settle-ms'], 1500);
const QUIZ = Boolean(args.quiz) && TARGET === 'edgeclass';
const PING_RATE = Number(args['ping-rate'] || 0);
const PING_S = Number(args['ping-s'] || 5);
const PERF_OUT = typeof args['perf-syscalls'] === 'string' ? args['perf-syscalls'] : null;
const LABEL = args.label || `${TARGET} N=${N} M=${M} R=${RATE}`;
const RUN = Date.now().toString(36);

const hr = () => Number(process.hrtime.bigint()) / 1e6; // ms, monotonic, this process
const T0 = hr();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(`[${((hr() - T0) / 1000).toFixed(1)}s]`, ...a);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : String(x));

// ---------------------------------------------------------------------------------------------
// the server process: RSS and CPU from /proc
const CLK_TCK = 100;
function sumOver(fn) {
  if (!PIDS.length) return null;
  let total = 0;
  for (const pid of PIDS) { const v = fn(pid); if (v == null) return null; total += v; }
  return total;
}
function rssKB() {
  return sumOver((pid) => {
    try { const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/); return m ? Number(m[1]) : null; } catch { return null; }
  });
}
function cpuMs() {
  return sumOver((pid) => {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // utime + stime
    } catch { return null; }
  });
}
function loadavg() { try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return '?'; } }
function clientCpuMs() { const u = process.cpuUsage(); return (u.user + u.system) / 1000; }

// ---------------------------------------------------------------------------------------------
// edgeclass setup: tokens, REST
const b64u = (b) => Buffer.from(b).toString('base64url');
function mintLocal(sub, name, role) {
  const iat = Math.floor(Date.now() / 1000);
  const h = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const p = b64u(JSON.stringify({ sub, name, role, iat, exp: iat + 3 * 3600 }));
  return `${h}.${p}.${createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url')}`;
}
function mintBin(sub, name, role) {
  return new Promise((resolve, reject) => {
    execFile(BIN, ['token', '--sub', sub, '--name', name, '--role', role, '--ttl', '3h'],
      { env: { ...process.env, EDGECLASS_JWT_SECRET: SECRET }, timeout: 10000 },
      (err, stdout, stderr) => (err ? reject(new Error(`edgeclass token: ${err.message} ${stderr}`)) : resolve(stdout.trim().split('\n').pop().trim())));
  });
}
const mint = (sub, name, role) => (MINT === 'bin' ? mintBin(sub, name, role) : Promise.resolve(mintLocal(sub, name, role)));
async function pool(items, conc, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() { while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); } }
  await Promise.all(Array.from({ length: Math.min(conc, items.length) }, worker));
  return out;
}
async function api(method, path, token, body) {
  try {
    const r = await fetch(URL_ + '/api/v1' + path, {
      method,
      headers: { authorization: 'Bearer ' + token, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: r.status, body: json };
  } catch (e) { return { status: 0, body: String(e && e.cause ? e.cause : e) }; }
}
function die(msg) { console.log('FATAL ' + msg); console.log('RESULT ' + JSON.stringify({ label: LABEL, target: TARGET, error: msg })); process.exit(1); }

// ---------------------------------------------------------------------------------------------
// receivers
const delays = new Float64Array(N * M);
let nDelays = 0;
let dups = 0, disorder = 0, strangers = 0, chatBytes = 0, chatFrames = 0;
const gotCount = new Uint32Array(N);
const seen = new Uint8Array(N * M);
const lastK = new Int32Array(N).fill(-1);
const closes = []; // {i, code, reason, phase}
let phase = 'setup';
let pongs = 0; // the ping phase's (--ping-rate)
const sockets = new Array(N);
let senderWs = null;

// the quiz phase (--quiz)
const quiz = { id: null, t0: 0, opened: new Float64Array(N), nOpened: 0, acked: new Float64Array(N), nAcked: 0,
  lastAnswerSent: 0, results: [], errors: 0 };
function onQuizFrame(i, m, t) {
  if (m.type === 'quiz_published' && i >= 0 && m.quiz && m.quiz.id === quiz.id && !quiz.opened[i]) {
    quiz.opened[i] = t - quiz.t0; quiz.nOpened++;
    sockets[i].send(JSON.stringify({ type: 'answer', quiz_id: quiz.id, answers: [{ question: 0, choice: [i % 4] }], ref: `a${i}` }));
    quiz.lastAnswerSent = hr();
  } else if (m.type === 'answer_accepted' && i >= 0 && m.quiz_id === quiz.id && !quiz.acked[i]) {
    quiz.acked[i] = t - quiz.t0; quiz.nAcked++;
  } else if (m.type === 'quiz_results' && i < 0 && m.quiz_id === quiz.id) {
    quiz.results.push({ t: t - quiz.t0, answered: m.answered });
  } else if (m.type === 'error') {
    quiz.errors++;
  }
}

// parses a chat event's text "fb <k> <sendMs>" (same for both targets)
function onFrame(i, data, isBinary) {
  const t = hr();
  if (isBinary) { strangers++; return; }
  let m;
  try { m = JSON.parse(data); } catch { strangers++; return; }
  if (phase === 'quiz') { onQuizFrame(i, m, t); return; }
  if (phase === 'ping') { if (m.type === 'pong') pongs++; return; }
  if (m.type !== 'chat_message' && m.type !== 'chat') return;
  const text = m.text;
  if (typeof text !== 'string' || !text.startsWith('fb ')) return;
  const sp = text.indexOf(' ', 3);
  const k = Number(text.slice(3, sp));
  const sent = Number(text.slice(sp + 1));
  if (i < 0) return; // the sender's own copy is not a delivery
  chatBytes += data.length; chatFrames++;
  const slot = i * M + k;
  if (seen[slot]) { dups++; return; }
  seen[slot] = 1;
  if (k < lastK[i]) disorder++; else lastK[i] = k;
  gotCount[i]++;
  delays[nDelays++] = t - sent;
}

function openSocket(url, headers, i) {
  return new Promise((resolve) => {
    const t0 = hr();
    let done = false;
    const settle = (r) => { if (!done) { done = true; clearTimeout(timer); resolve({ ...r, ms: hr() - t0 }); } };
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 20000 });
    const timer = setTimeout(() => { settle({ ok: false, why: 'timeout' }); try { ws.terminate(); } catch {} }, 25000);
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (first) { first = false; settle({ ok: true, ws }); return; } // the welcome
      onFrame(i, data, isBinary);
    });
    ws.on('close', (code, reason) => {
      if (phase !== 'cleanup') closes.push({ i, code, reason: reason.toString(), phase });
      settle({ ok: false, why: 'closed', code, reason: reason.toString() });
    });
    ws.on('unexpected-response', (req, res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => settle({ ok: false, why: 'http', http: res.statusCode, body: b.slice(0, 200) }));
    });
    ws.on('error', (e) => settle({ ok: false, why: 'error', error: e.message }));
  });
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
async function main() {
  log(`fanout-bench ${LABEL}: target ${TARGET} ${URL_}, ${N} receivers, ${M} messages at ${RATE}/s, server pid ${PID ?? '-'}, load ${loadavg()}`);
  const R = { label: LABEL, target: TARGET, students: N, messages: M, rate: RATE, load_start: loadavg() };

  // --- setup: where to connect, with which credentials -----------------------------------
  let recvUrl, recvHeaders, sendUrl, sendHeaders, sessionId = null, teacherTok = null;
  if (TARGET === 'edgeclass') {
    if (!SECRET) die('--secret is required for edgeclass');
    const t = hr();
    teacherTok = await mint(`fb${RUN}_t`, 'Teacher Tess', 'teacher');
    const toks = await pool(Array.from({ length: N }, (_, i) => i), MINT === 'bin' ? 8 : 1, (i) => mint(`fb${RUN}_s${i}`, `Student ${i}`, 'student'));
    let r = await api('POST', '/courses', teacherTok, { title: `fanout ${RUN}`, capacity: Math.max(5000, N) });
    if (r.status !== 201) die(`POST /courses -> ${r.status} ${JSON.stringify(r.body)}`);
    const courseId = r.body.id;
    r = await api('PATCH', `/courses/${courseId}`, teacherTok, { status: 'active' });
    if (r.status !== 200) die(`PATCH course -> ${r.status} ${JSON.stringify(r.body)}`);
    const tj = hr();
    const joins = await pool(toks, JOIN_CONC, (tok) => api('POST', `/courses/${courseId}/join`, tok));
    const bad = joins.filter((j) => j.status !== 201 && j.status !== 200);
    if (bad.length) die(`${bad.length} joins failed, e.g. ${bad[0].status} ${JSON.stringify(bad[0].body)}`);
    R.enrol_s = (hr() - tj) / 1000;
    r = await api('POST', `/courses/${courseId}/sessions`, teacherTok, { title: 'fan-out' });
    if (r.status !== 201) die(`POST sessions -> ${r.status} ${JSON.stringify(r.body)}`);
    sessionId = r.body.id;
    if (QUIZ) {
      r = await api('POST', `/sessions/${sessionId}/quizzes`, teacherTok, { title: 'fan-out quiz',
        questions: [{ kind: 'single', prompt: 'pick b', options: ['a', 'b', 'c', 'd'], correct: [1] }] });
      if (r.status !== 201) die(`POST quizzes -> ${r.status} ${JSON.stringify(r.body)}`);
      quiz.id = r.body.id;
    }
    const wsBases = (WS_URLS || [URL_]).map((u) => u.replace(/^http/, 'ws'));
    recvUrl = (i) => `${wsBases[i % wsBases.length]}/api/v1/sessions/${sessionId}/live`;
    recvHeaders = (i) => ({ authorization: 'Bearer ' + toks[i] });
    sendUrl = recvUrl(0);
    sendHeaders = { authorization: 'Bearer ' + teacherTok };
    log(`edgeclass: ${N} students enrolled in ${f1(R.enrol_s)} s (setup ${f1((hr() - t) / 1000)} s), course ${courseId}, session ${sessionId}`);
  } else {
    recvUrl = (i) => `${URL_}?id=fb${RUN}_s${i}&name=Student%20${i}&role=student`;
    recvHeaders = () => undefined;
    sendUrl = `${URL_}?id=fb${RUN}_t&name=Teacher%20Tess&role=teacher`;
    sendHeaders = undefined;
  }

  // --- connect ---------------------------------------------------------------------------
  phase = 'connect';
  await sleep(300);
  R.rss_before_kb = rssKB();
  const cpuC0 = cpuMs();
  const s = await openSocket(sendUrl, sendHeaders, -1);
  if (!s.ok) die(`sender cannot connect: ${JSON.stringify({ ...s, ws: undefined })}`);
  senderWs = s.ws;
  let rssHalf = null;
  const tc = hr();
  const res = await pool(Array.from({ length: N }, (_, i) => i), CONNECT_CONC, async (i) => {
    const x = await openSocket(recvUrl(i), recvHeaders(i), i);
    if (x.ok) sockets[i] = x.ws;
    if (i === Math.floor(N / 2)) rssHalf = rssKB();
    return x;
  });
  R.connect_s = (hr() - tc) / 1000;
  R.rss_after_kb = rssKB();
  R.server_cpu_connect_ms = cpuMs() != null && cpuC0 != null ? cpuMs() - cpuC0 : null;
  const failed = res.filter((x) => !x.ok);
  const lat = res.filter((x) => x.ok).map((x) => x.ms).sort((a, b) => a - b);
  R.connected = N - failed.length;
  R.connect_failures = failed.length;
  R.connect_p50_ms = pct(lat, 50);
  R.connect_p99_ms = pct(lat, 99);
  if (R.rss_before_kb && R.rss_after_kb) {
    R.kb_per_conn = (R.rss_after_kb - R.rss_before_kb) / N;
    if (rssHalf) R.kb_per_conn_marginal = (R.rss_after_kb - rssHalf) / (N - Math.floor(N / 2));
  }
  log(`connect: ${R.connected}/${N} in ${f2(R.connect_s)} s = ${f1(R.connected / R.connect_s)}/s (concurrency ${CONNECT_CONC}), upgrade->welcome P50 ${f1(R.connect_p50_ms)} ms P99 ${f1(R.connect_p99_ms)} ms; failures ${failed.length}${failed.length ? ' e.g. ' + JSON.stringify(failed[0]) : ''}`);
  if (R.rss_before_kb) log(`server RSS: ${f1(R.rss_before_kb / 1024)} MB before, ${f1(R.rss_after_kb / 1024)} MB after ${N + 1} sockets = ${f2(R.kb_per_conn)} KB per connection (marginal, second half: ${f2(R.kb_per_conn_marginal)} KB)`);
  if (R.connected === 0) die('no receiver connected');

  // let presence traffic and the connect burst settle, so the chat measures the chat only
  phase = 'settle';
  await sleep(SETTLE_MS);
  R.rss_settled_kb = rssKB();

  // --- chat --------------------------------------------------------------------------------
  phase = 'chat';
  R.load_chat = loadavg();
  const interval = 1000 / RATE;
  const cpuS0 = cpuMs(), ccpu0 = clientCpuMs();
  const tStart = hr();
  let lastSend = tStart, maxLag = 0;
  for (let k = 0; k < M; k++) {
    const target = tStart + k * interval;
    let now = hr();
    if (target > now) { await sleep(target - now); now = hr(); }
    maxLag = Math.max(maxLag, now - target);
    lastSend = now;
    senderWs.send(JSON.stringify({ type: 'chat', text: `fb ${k} ${now.toFixed(3)}` }));
  }
  R.send_s = (lastSend - tStart) / 1000;
  R.send_rate = M > 1 ? (M - 1) / R.send_s : M;
  R.send_max_lag_ms = maxLag;
  const expected = R.connected * M;
  const drainEnd = hr() + DRAIN_S * 1000;
  while (nDelays < expected && hr() < drainEnd) await sleep(10);
  const tDone = hr();
  R.server_cpu_chat_ms = cpuMs() != null && cpuS0 != null ? cpuMs() - cpuS0 : null;
  R.client_cpu_chat_ms = clientCpuMs() - ccpu0;
  R.chat_wall_ms = tDone - tStart;
  R.rss_end_kb = rssKB();
  R.delivered = nDelays;
  R.server_us_per_delivery = R.server_cpu_chat_ms != null && nDelays ? (R.server_cpu_chat_ms * 1000) / nDelays : null;
  R.expected = expected;
  R.last_delivery_after_last_send_ms = tDone - lastSend;
  const d = Array.from(delays.subarray(0, nDelays)).sort((a, b) => a - b);
  R.p50_ms = pct(d, 50); R.p90_ms = pct(d, 90); R.p99_ms = pct(d, 99); R.p999_ms = pct(d, 99.9); R.max_ms = d.length ? d[d.length - 1] : NaN;
  R.mean_ms = d.length ? d.reduce((a, b) => a + b, 0) / d.length : NaN;
  R.dups = dups; R.disorder = disorder; R.non_json = strangers;
  R.chat_frame_bytes = chatFrames ? chatBytes / chatFrames : NaN;
  R.closes = closes.length;
  const codes = {};
  for (const c of closes) codes[`${c.code}@${c.phase}`] = (codes[`${c.code}@${c.phase}`] || 0) + 1;
  R.close_codes = codes;
  R.close_examples = closes.slice(0, 5);
  R.short_receivers = 0;
  for (let i = 0; i < N; i++) if (sockets[i] && gotCount[i] < M) R.short_receivers++;
  R.load_end = loadavg();

  log(`chat: sent ${M} in ${f2(R.send_s)} s (${f1(R.send_rate)}/s, max send lag ${f1(maxLag)} ms); delivered ${nDelays}/${expected}${nDelays < expected ? ` (${expected - nDelays} missing, ${R.short_receivers} receivers short)` : ''}; dups ${dups}, out of order ${disorder}; chat frame ${f1(R.chat_frame_bytes)} bytes`);
  log(`delay ms: P50 ${f2(R.p50_ms)}  P90 ${f2(R.p90_ms)}  P99 ${f2(R.p99_ms)}  P999 ${f2(R.p999_ms)}  max ${f2(R.max_ms)}  mean ${f2(R.mean_ms)}`);
  if (R.server_cpu_chat_ms != null) log(`CPU during the chat (${f1(R.chat_wall_ms)} ms wall): server ${f1(R.server_cpu_chat_ms)} ms (${f1(100 * R.server_cpu_chat_ms / R.chat_wall_ms)} %), client ${f1(R.client_cpu_chat_ms)} ms (${f1(100 * R.client_cpu_chat_ms / R.chat_wall_ms)} %); server RSS at the end ${f1((R.rss_end_kb || 0) / 1024)} MB`);
  log(`closes before cleanup: ${closes.length} ${JSON.stringify(codes)}; load ${R.load_end}`);

  // --- pings (--ping-rate): what the server pays per message it receives ------------------
  if (PING_RATE > 0 && TARGET === 'edgeclass') {
    phase = 'ping';
    await sleep(300);
    const live = sockets.filter(Boolean);
    const syscalls = 'recvfrom,recvmsg,read,epoll_ctl,epoll_wait,sendmsg,sendto,write,writev,io_uring_enter'
      .split(',').map((c) => `syscalls:sys_enter_${c}`).join(',');
    const perf = PERF_OUT && PID
      ? spawn('perf', ['stat', '-x,', '-e', syscalls, '-p', String(PID), '-o', PERF_OUT, '--', 'sleep', String(PING_S)], { stdio: 'ignore' })
      : null;
    const perfDone = perf ? new Promise((r) => perf.on('exit', r)) : Promise.resolve();
    const cpuP0 = cpuMs(), pong0 = pongs, tP = hr();
    // Every 10 ms a slice of the sockets sends, so the pings arrive evenly.
    const perTick = (live.length * PING_RATE) / 100;
    let owed = 0, next = 0, sent = 0;
    while (hr() - tP < PING_S * 1000) {
      owed += perTick;
      for (; owed >= 1; owed--, sent++) live[next++ % live.length].send('{"type":"ping"}');
      await sleep(10);
    }
    const wall = hr() - tP, cpu = cpuMs() != null && cpuP0 != null ? cpuMs() - cpuP0 : null;
    const got = pongs - pong0;
    await perfDone;
    R.ping_sent = sent; R.ping_pongs = got; R.ping_wall_ms = wall;
    R.ping_server_us_per_message = cpu != null && got ? (cpu * 1000) / got : null;
    log(`pings: ${sent} sent by ${live.length} students in ${f1(wall)} ms (${f1(sent / (wall / 1000))}/s), ${got} pongs; server CPU ${f1(cpu)} ms = ${f2(R.ping_server_us_per_message)} us per received message; load ${loadavg()}`);
    if (perf) {
      const lines = readFileSync(PERF_OUT, 'utf8').split('\n');
      const per = {};
      for (const line of lines) {
        const f = line.split(',');
        const m = /sys_enter_(\w+)$/.exec(f[2] || '');
        if (m && got) per[m[1]] = Number(f[0]) / got;
      }
      R.ping_syscalls_per_message = per;
      log(`system calls per received message (perf stat, ${PING_S} s): ${Object.entries(per).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
    }
    await sleep(500);
  }

  // --- quiz --------------------------------------------------------------------------------
  if (QUIZ) {
    phase = 'quiz';
    await sleep(500);
    const cpuQ0 = cpuMs();
    quiz.t0 = hr();
    senderWs.send(JSON.stringify({ type: 'quiz_publish', quiz_id: quiz.id, time_limit_s: 300, ref: 'qp' }));
    const quizEnd = hr() + DRAIN_S * 1000;
    const allIn = () => quiz.nOpened >= R.connected && quiz.nAcked >= R.connected &&
      quiz.results.length && quiz.results[quiz.results.length - 1].answered >= R.connected;
    while (!allIn() && hr() < quizEnd) await sleep(5);
    R.quiz_server_cpu_ms = cpuMs() != null && cpuQ0 != null ? cpuMs() - cpuQ0 : null;
    const o = Array.from(quiz.opened).filter((x) => x > 0).sort((a, b) => a - b);
    const a = Array.from(quiz.acked).filter((x) => x > 0).sort((a, b) => a - b);
    const full = quiz.results.find((x) => x.answered >= R.connected);
    R.quiz_opened = o.length; R.quiz_open_p50_ms = pct(o, 50); R.quiz_open_p99_ms = pct(o, 99); R.quiz_open_max_ms = o.length ? o[o.length - 1] : NaN;
    R.quiz_acked = a.length; R.quiz_ack_p50_ms = pct(a, 50); R.quiz_ack_p99_ms = pct(a, 99); R.quiz_ack_max_ms = a.length ? a[a.length - 1] : NaN;
    R.quiz_results_events = quiz.results.length;
    R.quiz_results_all_ms = full ? full.t : NaN; // publish -> the teacher sees every answer counted
    R.quiz_results_after_last_answer_ms = full ? full.t - (quiz.lastAnswerSent - quiz.t0) : NaN;
    R.quiz_errors = quiz.errors;
    log(`quiz: opened on ${o.length}/${R.connected}: P50 ${f2(R.quiz_open_p50_ms)} P99 ${f2(R.quiz_open_p99_ms)} max ${f2(R.quiz_open_max_ms)} ms after publish; ` +
        `answers acknowledged ${a.length}/${R.connected}: P50 ${f2(R.quiz_ack_p50_ms)} P99 ${f2(R.quiz_ack_p99_ms)} max ${f2(R.quiz_ack_max_ms)} ms; ` +
        `teacher's live results: ${quiz.results.length} updates, all ${R.connected} counted ${f1(R.quiz_results_all_ms)} ms after publish ` +
        `(${f1(R.quiz_results_after_last_answer_ms)} ms after the last answer was sent); errors ${quiz.errors}; server CPU ${f1(R.quiz_server_cpu_ms)} ms`);
  }

  // --- cleanup -----------------------------------------------------------------------------
  phase = 'cleanup';
  if (TARGET === 'edgeclass' && sessionId) {
    const r = await api('POST', `/sessions/${sessionId}/end`, teacherTok);
    if (r.status !== 200) log(`ending the session: ${r.status}`);
    await sleep(300);
  }
  for (const w of sockets) try { w && w.terminate(); } catch {}
  try { senderWs.terminate(); } catch {}
  console.log('RESULT ' + JSON.stringify(R));
  if (args.json) writeFileSync(args.json, JSON.stringify(R, null, 1));
  setTimeout(() => process.exit(0), 200);
}

main().catch((e) => die(`exception: ${e && e.stack ? e.stack : e}`));
