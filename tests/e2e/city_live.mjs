// Browser end-to-end test of one live class across the replicas of a city: a real
// redis-server and three edgeclass replicas on loopback, the pages in headless Chromium. The
// teacher's page is on replica a (the course's home); Ana's on b and Ben's on c, whose live
// sockets those replicas relay to a. Chat, raised hands, a quiz with live results and
// scores, Ben dropping and resuming through c, the end. Video, relayed between the replicas'
// SFUs: the teacher's camera on a; Ana's and Cleo's pages on b and Ben's on c connect their
// media to their own replica's SFU and decode the teacher's video (getStats), a's SFU sending
// each stream once to b's and once to c's (the relay legs counted in /metrics: two on a, one
// each on b and c, whatever the number of students); then Ana, on b, gets the stage: her page
// publishes to a's SFU (the home decides who publishes) and the teacher and Ben (through c's
// leg) decode her. Exits non-zero on the first failed check.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ROOT, check, goLiveInNewCourse, launchBrowser, pageOpener, sleep, startServer, waitRise } from './harness.mjs';

// Page waits (selectors, functions): generous for a loaded 2-core machine, where a wait that
// crosses processes (server, Chromium's renderers, the SFU) can take seconds; met, it returns at once.
const TIMEOUT = 30000;
const REDIS = process.env.REDIS_SERVER || 'redis-server';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// redis-server on a free port. The port is picked here and bound by redis a moment later: if
// another process took it meanwhile, redis exits at once, and it starts again on another.
async function startRedis() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const proc = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--loglevel', 'warning'], { stdio: 'ignore' });
    let exited = false;
    proc.on('exit', () => { exited = true; });
    for (let i = 0; i < 600 && !exited; i++) {  // up to 30 s on a loaded machine
      const up = await new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
        c.on('error', () => resolve(false));
      });
      if (up) return { proc, port };
      await sleep(50);
    }
    if (!exited) {
      proc.kill('SIGKILL');
      throw new Error('redis-server did not start');
    }
  }
  throw new Error('redis-server exited at start five times (ports taken?)');
}

async function inCity(server) {
  for (let i = 0; i < 300; i++) {
    const text = await fetch(`${server.adminUrl}/metrics`).then((r) => r.text()).catch(() => '');
    // The sample line (the HELP text also reads "edgeclass_city_connected 1 while ...").
    if (/^edgeclass_city_connected 1$/m.test(text)) return;
    await sleep(100);
  }
  throw new Error(`${server.url} did not join the city`);
}

// The default policies plus the rule docs/policy.md suggests for letting the student on stage
// share a screen (share_screen with on_stage), for every replica.
function policyDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeclass-e2e-city-policy-'));
  const rego = fs.readFileSync(path.join(ROOT, 'policies/education.rego'), 'utf8');
  fs.writeFileSync(path.join(dir, 'education.rego'), `${rego}
allow {
	input.action == "share_screen"
	input.on_stage == true
}
`);
  return dir;
}

async function main() {
  const redis = await startRedis();
  const policies = policyDir();
  const servers = {};
  let browser = null;
  try {
    for (const name of ['a', 'b', 'c']) {
      servers[name] = await startServer({
        prefix: `edgeclass-e2e-city-${name}-`,
        env: { EDGECLASS_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
          EDGECLASS_REPLICA_ID: name, EDGECLASS_MEDIA_PORT: '0',
          EDGECLASS_PUBLIC_IP: '127.0.0.1', EDGECLASS_POLICY_DIR: policies,
          // b: a subscription whose browser never checks ICE dies after 5 s (not 30).
          ...(name === 'b' ? { EDGECLASS_MEDIA_ICE_TIMEOUT: '5s' } : {}) },
        failOn: ['media.unavailable'],
      });
    }
    for (const s of Object.values(servers)) await inCity(s);
    // On loopback the browser needs flags to accept a 127.0.0.1 candidate.
    browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required',
      '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns']);
    const open = (name, ...rest) => pageOpener(browser, servers[name], TIMEOUT)(...rest);

    // --- the teacher, on a, creates a course and goes live
    const T = await open('a', 'teacher.html', 'usr_tess', 'Ms Tess', 'teacher');
    const courseId = await goLiveInNewCourse(T, 'City class');
    check(true, `teacher live on replica a (course ${courseId})`);

    // --- Ana joins through b, Ben through c
    const S = {};
    for (const [name, sub, who] of [['b', 'usr_ana', 'Ana'], ['c', 'usr_ben', 'Ben']]) {
      const P = await open(name, 'student.html', sub, who, 'student');
      await P.fill('#course-id', courseId);
      await P.click('#join');
      await P.waitForSelector('#conn.open');
      S[sub] = P;
    }
    const A = S.usr_ana;
    const B = S.usr_ben;
    await T.waitForSelector('#people li[data-user="usr_ana"]');
    await T.waitForSelector('#people li[data-user="usr_ben"]');
    check((await T.locator('#people-count').innerText()) === '3',
      'the teacher on a sees the students on b and c');
    await B.evaluate(() => {
      window.__welcomes = [];
      window.edgeclassLive().addEventListener('welcome', (e) => window.__welcomes.push(e.detail.resumed));
    });

    // --- chat across replicas
    await A.fill('#chat-input', 'Hello from b');
    await A.press('#chat-input', 'Enter');
    await T.waitForSelector('#chat .chat-text:text("Hello from b")');
    await B.waitForSelector('#chat .chat-text:text("Hello from b")');
    await B.fill('#chat-input', 'Hello from c');
    await B.press('#chat-input', 'Enter');
    await A.waitForSelector('#chat .chat-text:text("Hello from c")');
    check(true, 'chat from b and c reaches every replica');

    // --- video, relayed: the teacher's camera on a; the students on b and c decode it, their
    // media connected to their own replica's SFU, which gets the streams from a's SFU over one
    // relay leg per replica (Cleo joins on b too: two students there, still one leg)
    const mediaPort = (name) => {
      const line = servers[name].log().split('\n').find((l) => l.includes('"media.ready"'));
      const m = line && line.match(/"port":\s*"?(\d+)/);
      return m ? Number(m[1]) : null;
    };
    const ports = { a: mediaPort('a'), b: mediaPort('b'), c: mediaPort('c') };
    const homeMedia = ports.a;
    check(homeMedia !== null && new Set(Object.values(ports)).size === 3,
      `each replica has its own media port (${JSON.stringify(ports)})`);
    const C = await open('b', 'student.html', 'usr_cleo', 'Cleo', 'student');
    await C.fill('#course-id', courseId);
    await C.click('#join');
    await C.waitForSelector('#conn.open');
    await T.waitForSelector('#people li[data-user="usr_cleo"]');
    await T.click('#camera');
    await T.waitForSelector('#camera:text("Stop camera")');
    const video = (P) => P.evaluate(async () => {
      const out = { frames: 0 };
      const pc = window.edgeclassVideo() && window.edgeclassVideo().pc;
      if (!pc) return out;
      const mainMids = new Set(pc.getTransceivers().slice(0, 2).map((t) => t.mid));
      const stats = await pc.getStats();
      stats.forEach((x) => {
        if (x.type === 'inbound-rtp' && x.kind === 'video' && mainMids.has(x.mid)) out.frames = x.framesDecoded || 0;
        if (x.type === 'candidate-pair' && x.nominated) out.remoteId = x.remoteCandidateId;
      });
      stats.forEach((x) => {
        if (x.type === 'remote-candidate' && x.id === out.remoteId) out.remote = `${x.address}:${x.port}`;
      });
      return out;
    });
    const viewers = [['Ana (b)', A, 'b'], ['Cleo (b)', C, 'b'], ['Ben (c)', B, 'c']];
    for (const [, P] of viewers) {
      await P.waitForSelector('#stage-video.playing');
      await P.waitForFunction(() => {
        const pc = window.edgeclassVideo().pc;
        return pc && pc.connectionState === 'connected';
      });
    }
    const first = [];
    for (const [, P] of viewers) first.push(await video(P));
    for (let i = 0; i < viewers.length; i++) {
      const [name, P, replica] = viewers[i];
      // 25 more frames, however long the shared 2 cores take (up to 30 s).
      const r = await waitRise(async () => (await video(P)).frames ?? null, 25, { from: first[i].frames ?? 0 });
      const then = await video(P);
      console.log(`${name}: teacher's video frames ${first[i].frames} -> ${r.to} in ${r.secs.toFixed(1)} s, media to ${then.remote}`);
      check(then.remote === `127.0.0.1:${ports[replica]}`,
        `${name}: media connected to its own replica's SFU (${then.remote}, ${replica} is ${ports[replica]})`);
      check(r.to > (first[i].frames ?? 0) + 25, `${name}: decodes the teacher's video`);
    }
    // One relay leg per edge replica, not per student: a sends two (to b and c), b and c
    // receive one each; a's relay carried the teacher's packets and each edge received them.
    const legs = async () => {
      const out = {};
      for (const [name, metric] of [['a', 'edgeclass_media_relay_legs_out'],
        ['b', 'edgeclass_media_relay_legs_in'], ['c', 'edgeclass_media_relay_legs_in'],
        ['a_in', 'edgeclass_media_relay_legs_in'], ['b_out', 'edgeclass_media_relay_legs_out']]) {
        const server = servers[name[0]];
        const text = await fetch(`${server.adminUrl}/metrics`).then((r) => r.text()).catch(() => '');
        const m = text.match(new RegExp(`^${metric} (\\d+)$`, 'm'));
        out[name] = m ? Number(m[1]) : null;
        const p = text.match(new RegExp(`^edgeclass_media_relay_packets_total\\{direction="(${name === 'a' ? 'out' : 'in'})"\\} (\\d+)$`, 'm'));
        if (name.length === 1) out[`${name}_packets`] = p ? Number(p[2]) : null;
      }
      return out;
    };
    let seen = await legs();
    const want = (l) => l.a === 2 && l.b === 1 && l.c === 1 && l.a_in === 0 && l.b_out === 0 &&
      l.a_packets > 0 && l.b_packets > 0 && l.c_packets > 0;
    for (let i = 0; i < 40 && !want(seen); i++) {  // the metrics are refreshed every second
      await sleep(250);
      seen = await legs();
    }
    console.log(`relay legs and packets from /metrics: ${JSON.stringify(seen)}`);
    check(want(seen), 'one relay leg per edge replica: a sends 2 (b with two students, c with one), b and c receive 1 each');
    check(await servers.a.waitLog('"media.relay_up"') && await servers.b.waitLog('"media.relay_up"'),
      'the legs going up are logged (media.relay_up) on the home and the edge');
    // Only replicas open legs: without the city credential the home refuses (the offer would
    // carry the leg's keys).
    const forged = await fetch(`${servers.a.url}/internal/v1/media/relay`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: '{"room":"x"}' });
    check(forged.status === 403, `a relay offer without the city credential is refused (${forged.status})`);
    // Cleo's subscription on b dies (here: her page replaces it with one it never connects,
    // so b's SFU gives up on its ICE): b itself tells her page media.disconnected, as the home
    // would, and the page subscribes again at once (its own stall check is held off here, so
    // only the message can bring her video back) and decodes the teacher again.
    await C.evaluate(async () => {
      window.__disconnected = [];
      window.edgeclassLive().addEventListener('media', (e) => {
        if (e.detail.type === 'media.disconnected') window.__disconnected.push(e.detail);
      });
      const v = window.edgeclassVideo();
      v.lastAttempt = performance.now() + 120000;  // no resubscription for a stall
      window.__oldPc = v.pc;
      const pc = new RTCPeerConnection();
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      await pc.setLocalDescription(await pc.createOffer());
      window.__neverConnected = pc;
      window.edgeclassLive().send({ type: 'media.subscribe', sdp: pc.localDescription.sdp });
    });
    const t0 = Date.now();
    try {
      await C.waitForFunction(() => window.__disconnected.length > 0, null, { timeout: 30000 });
    } catch (err) {
      console.log(`Cleo's page saw: ${JSON.stringify(await C.evaluate(() => window.__disconnected))}; ` +
        `b logged: ${servers.b.log().split('\n').filter((l) => l.includes('media_disconnected') || l.includes('ice_failed')).join(' | ')}`);
      throw err;
    }
    const disc = await C.evaluate(() => window.__disconnected[0]);
    console.log(`Cleo: ${JSON.stringify(disc)} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    check(disc.connection === 'subscribe', "b tells Cleo's page its subscription died (media.disconnected, connection subscribe)");
    check(await servers.b.waitLog('"live.media_disconnected"'), 'b logs live.media_disconnected');
    await C.waitForFunction(() => {
      const pc = window.edgeclassVideo().pc;
      return pc && pc !== window.__oldPc && pc.connectionState === 'connected';
    }, null, { timeout: 30000 });
    const again = await video(C);
    const rc = await waitRise(async () => (await video(C)).frames ?? null, 10, { from: again.frames ?? 0 });
    check(rc.to > (again.frames ?? 0) + 10 && (await video(C)).remote === `127.0.0.1:${ports.b}`,
      `Cleo subscribed again on b at once and decodes (frames ${again.frames} -> ${rc.to} in ${rc.secs.toFixed(1)} s)`);
    await C.evaluate(() => { window.__neverConnected.close(); });

    // Cleo leaves b: Ana still watches there, so b keeps its leg.
    await C.close();
    await T.waitForSelector('#people li[data-user="usr_cleo"]', { state: 'detached' });
    await T.click('#camera');
    for (const P of [A, B]) await P.waitForSelector('#stage-video:not(.playing)', { state: 'attached' });
    check(true, 'the students on b and c see the camera stop');
    seen = await legs();
    check(seen.a === 2 && seen.b === 1, `b keeps its leg while Ana watches there (${JSON.stringify(seen)})`);

    // --- the stage to Ana (on b): her page publishes through b into the home's SFU; the
    // teacher (a) decodes her there and Ben (c) through c's relay leg; the take-back stops it
    const stageFrames = (P) => P.evaluate(async () => {
      const r = window.edgeclassVideo() && window.edgeclassVideo().videoReceiver('stage');
      if (!r) return null;
      let frames = null;
      (await r.getStats()).forEach((x) => { if (x.type === 'inbound-rtp') frames = x.framesDecoded || 0; });
      return frames;
    });
    await T.click('#people li[data-user="usr_ana"] button[data-action="stage"]:text("Give stage")');
    await A.waitForSelector('#on-stage:not([hidden])');
    await A.waitForFunction(() => {
      const pc = window.edgeclassCamera().pc;
      return pc && pc.connectionState === 'connected';
    });
    const anaSends = await A.evaluate(async () => {
      let remote = null;
      let pairRemote = null;
      const stats = await window.edgeclassCamera().pc.getStats();
      let selected = null;
      stats.forEach((x) => { if (x.type === 'transport' && x.selectedCandidatePairId) selected = x.selectedCandidatePairId; });
      stats.forEach((x) => {
        if (x.type === 'candidate-pair' && (x.id === selected || (!selected && x.nominated))) pairRemote = x.remoteCandidateId;
      });
      stats.forEach((x) => { if (x.type === 'remote-candidate' && x.id === pairRemote) remote = `${x.address}:${x.port}`; });
      return remote;
    });
    check(anaSends === `127.0.0.1:${homeMedia}`, `Ana (b) on stage publishes to the home's SFU (${anaSends})`);
    const stageViewers = [['teacher (a)', T], ['Ben (c)', B]];
    for (const [, P] of stageViewers) {
      await P.waitForSelector('#onstage-video.playing');
      await P.waitForFunction(() => window.edgeclassVideo().pc.connectionState === 'connected');
    }
    const onStage = [];
    for (const [, P] of stageViewers) onStage.push(await stageFrames(P));
    for (let i = 0; i < stageViewers.length; i++) {
      const [name, P] = stageViewers[i];
      const r = await waitRise(() => stageFrames(P), 20, { from: onStage[i] || 0 });
      console.log(`${name}: Ana's stage video frames ${onStage[i]} -> ${r.to} in ${r.secs.toFixed(1)} s`);
      check(r.to !== null && r.to > (onStage[i] || 0) + 20, `${name}: decodes Ana (on b) on stage`);
    }
    // Ana, on stage, shares her screen (this city's policy lets the student on stage share):
    // it goes up to the home's SFU and comes to Ben through c's relay leg (feed "screen")
    await A.waitForSelector('#share:not([hidden])');
    await A.click('#share');
    await A.waitForSelector('#share:text("Stop sharing")');
    await A.waitForSelector('#screen-video.playing');
    const screenFrames = (P) => P.evaluate(async () => {
      const r = window.edgeclassVideo().videoReceiver('screen');
      if (!r) return null;
      let frames = null;
      (await r.getStats()).forEach((x) => { if (x.type === 'inbound-rtp') frames = x.framesDecoded || 0; });
      return frames;
    });
    await B.waitForSelector('#screen-video.playing');
    const screenFrom = await screenFrames(B);
    const sr = await waitRise(() => screenFrames(B), 10, { from: screenFrom || 0 });
    console.log(`Ben (c): Ana's screen frames ${screenFrom} -> ${sr.to} in ${sr.secs.toFixed(1)} s`);
    check(sr.to !== null && sr.to > (screenFrom || 0) + 10, 'Ben (c) decodes the screen Ana (b, on stage) shares');
    await A.click('#share');
    await A.waitForSelector('#share:text("Share screen")');
    await B.waitForSelector('#screen-video:not(.playing)', { state: 'attached' });
    check(true, 'Ana stops sharing: Ben sees the screen end');
    await T.click('#take-stage');
    await A.waitForSelector('#on-stage[hidden]', { state: 'attached' });
    await A.waitForSelector('#share', { state: 'hidden' });
    for (const [, P] of stageViewers) await P.waitForSelector('#onstage-video:not(.playing)', { state: 'attached' });
    check(true, 'the stage taken back: Ana stops, the viewers see it end');

    // --- hands (Ana raises hers once the teacher sees Ben's: through two replicas nothing
    // orders them but their arrival at the home)
    await B.click('#hand');
    await T.waitForSelector('#hands li[data-user="usr_ben"]');
    await A.click('#hand');
    await T.waitForSelector('#hands li[data-user="usr_ana"]');
    const order = await T.$$eval('#hands li[data-user]', (ls) => ls.map((l) => l.dataset.user));
    check(order.join(',') === 'usr_ben,usr_ana', `hands in raise order (${order})`);
    await T.click('#hands li[data-user="usr_ben"] button');
    await B.waitForSelector('#hand:not(.active)');
    check(true, 'the teacher lowered the hand of a student on another replica');

    // --- a quiz published on a, answered through b and c
    const q1 = T.locator('#questions .question').nth(0);
    await q1.locator('.q-prompt').fill('2 + 2 = ?');
    await q1.locator('.q-text').nth(0).fill('3');
    await q1.locator('.q-text').nth(1).fill('4');
    await q1.locator('.q-correct').nth(1).check();
    await T.click('#publish');
    for (const P of [A, B]) await P.waitForSelector('#quiz-form:not([hidden]) fieldset.answer');
    await A.check('fieldset[data-question="0"] input[value="1"]');
    await A.click('#submit-answers');
    await B.check('fieldset[data-question="0"] input[value="0"]');
    await B.click('#submit-answers');
    for (const P of [A, B]) await P.waitForSelector('#quiz-ack:not([hidden])');
    await T.waitForFunction(() => document.querySelector('#quiz-answered').textContent.startsWith('2 of'));
    const bars = await T.$$eval('#quiz-results .result-question:first-child .bar-value', (v) => v.map((x) => x.textContent));
    check(bars.join(',') === '1,1', `the teacher's live results count both replicas (${bars})`);

    // --- Ben drops; he resumes through c with what he missed
    await B.evaluate(() => window.edgeclassLive().drop());
    await T.fill('#chat-input', 'Closing the quiz now');
    await T.press('#chat-input', 'Enter');
    await B.waitForSelector('#chat .chat-text:text("Closing the quiz now")');
    const welcomes = await B.evaluate(() => window.__welcomes);
    check(welcomes.length >= 1 && welcomes[welcomes.length - 1] === true,
      `Ben resumed through c (welcomes: ${JSON.stringify(welcomes)})`);

    await T.click('#close-quiz');
    for (const P of [A, B]) await P.waitForFunction(() => document.querySelector('#score').textContent.includes('/'));
    check((await A.locator('#score').innerText()) === '1 / 1', 'Ana (through b) scored 1 / 1');
    check((await B.locator('#score').innerText()) === '0 / 1', 'Ben (through c) scored 0 / 1');

    // --- the end reaches every replica
    T.once('dialog', (d) => d.accept());
    await T.click('#end');
    for (const P of [A, B]) await P.waitForSelector('#conn.closed');
    check(true, 'session ended for the students on b and c');
  } catch (e) {
    // What the replicas said about media and their relay legs, to see why.
    for (const [name, s] of Object.entries(servers)) {
      const lines = s.log().split('\n').filter((l) => /"media\.(relay|ready)|"media transport/.test(l));
      console.error(`--- replica ${name}, media lines (${lines.length} of ${s.log().length} bytes):\n${lines.slice(-30).join("\n")}`);
    }
    throw e;
  } finally {
    fs.rmSync(policies, { recursive: true, force: true });
    if (browser) await browser.close();
    for (const s of Object.values(servers)) {
      s.proc.kill('SIGTERM');
      fs.rmSync(s.dataDir, { recursive: true, force: true });
    }
    redis.proc.kill('SIGKILL');
  }
}

main().then(() => {
  if (process.exitCode) console.error('FAILED: page errors');
  else console.log('e2e city live: all checks passed');
}).catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
