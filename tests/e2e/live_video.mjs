// Browser end-to-end test of live video: the real edgeclass binary with its SFU on a UDP port
// on loopback, its own pages in headless Chromium with a fake camera and microphone. The
// teacher starts the camera, three students see it; from getStats() each student's video keeps
// decoding, audio arrives and almost nothing is lost; the teacher reloads and the students'
// subscriptions carry the new stream. Exits non-zero on the first failed check.
import fs from 'node:fs';
import path from 'node:path';

import { SHOTS, check, launchBrowser, pageOpener, sleep, startServer } from './harness.mjs';

const TIMEOUT = 15000;
const MEDIA_PORT = String(20000 + Math.floor(Math.random() * 30000));

// The inbound RTP stats of a student's subscription, and the candidate pair's RTT.
const inbound = (page) =>
  page.evaluate(async () => {
    const out = { rtt: null };
    const pc = window.edgeclassVideo() && window.edgeclassVideo().pc;
    if (!pc) return out;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out[s.kind] = { packets: s.packetsReceived, frames: s.framesDecoded || 0, lost: s.packetsLost,
          jbDelay: s.jitterBufferDelay, jbCount: s.jitterBufferEmittedCount, width: s.frameWidth };
      }
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) {
        out.rtt = s.currentRoundTripTime;
      }
    });
    return out;
  });

async function main() {
  const server = await startServer({
    env: { EDGECLASS_MEDIA_PORT: MEDIA_PORT, EDGECLASS_PUBLIC_IP: '127.0.0.1' },
    failOn: ['media.unavailable'],
    prefix: 'edgeclass-video-',
  });
  const browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns']);
  const open = pageOpener(browser, server, TIMEOUT);
  try {
    const T = await open('teacher.html', 'usr_tess', 'Ms Tess', 'teacher');
    await T.fill('#course-title', 'Video 101');
    await T.fill('#course-capacity', '30');
    await T.click('#new-course button[type=submit]');
    await T.waitForSelector('#courses option', { state: 'attached' });
    const courseId = await T.$eval('#courses', (s) => s.value);
    await T.click('#go-live');
    await T.waitForSelector('#conn.open');
    check(true, 'teacher is live');

    // One student is there before the camera starts, two join after.
    const students = [];
    const join = async (sub, name) => {
      const S = await open('student.html', sub, name, 'student');
      await S.fill('#course-id', courseId);
      await S.click('#join');
      await S.waitForSelector('#conn.open');
      students.push([name, S]);
    };
    await join('usr_ana', 'Ana');
    await T.click('#camera');
    await T.waitForSelector('#camera:text("Stop camera")');
    await T.waitForSelector('#stage-video.playing');
    check(true, 'teacher camera on (local preview)');
    await join('usr_ben', 'Ben');
    await join('usr_cleo', 'Cleo');
    for (const [name, S] of students) {
      await S.waitForSelector('#stage-video.playing');
      await S.waitForFunction(() => {
        const pc = window.edgeclassVideo().pc;
        return pc && pc.connectionState === 'connected';
      });
      check(true, `${name} is subscribed and connected`);
    }

    // Autoplay starts muted; the student turns the sound on.
    await students[0][1].click('#sound');
    check(!(await students[0][1].$eval('#stage-video', (v) => v.muted)), 'Ana turned the sound on');

    // A student may not publish.
    const refused = await students[0][1].evaluate(() => new Promise((resolve) => {
      const live = window.edgeclassLive();
      const ref = live.send({ type: 'media.publish', sdp: 'v=0' });
      live.addEventListener('reply', (e) => { if (e.detail.ref === ref) resolve(e.detail.code); });
    }));
    check(refused === 'not_allowed', `a student's media.publish is refused (${refused})`);

    await sleep(2000);
    const first = [];
    for (const [, S] of students) first.push(await inbound(S));
    await sleep(6000);
    for (let i = 0; i < students.length; i++) {
      const [name, S] = students[i];
      const a = first[i];
      const b = await inbound(S);
      const jb = b.video && b.video.jbCount ? (1000 * b.video.jbDelay) / b.video.jbCount : NaN;
      console.log(`${name}: video frames ${a.video?.frames} -> ${b.video?.frames} (${b.video?.width}px wide), ` +
        `audio packets ${a.audio?.packets} -> ${b.audio?.packets}, lost video ${b.video?.lost} audio ${b.audio?.lost}, ` +
        `rtt ${b.rtt === null ? 'n/a' : (1000 * b.rtt).toFixed(1) + ' ms'}, video jitter buffer ${jb.toFixed(1)} ms`);
      check(b.video && a.video && b.video.frames > a.video.frames + 60, `${name}: video frames keep decoding`);
      check(b.audio && a.audio && b.audio.packets > a.audio.packets + 100, `${name}: audio packets keep arriving`);
      const lost = (b.video.lost || 0) + (b.audio.lost || 0);
      const total = b.video.packets + b.audio.packets;
      check(lost <= Math.max(5, total * 0.01), `${name}: packets lost ${lost} of ${total}`);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const pick = (n) => (metrics.match(new RegExp(`^${n} (\\S+)`, 'm')) || [])[1];
    console.log(`sfu: packets in ${pick('edgeclass_media_received_packets_total')}, out ${pick('edgeclass_media_sent_packets_total')}, ` +
      `subscribers ${pick('edgeclass_media_subscribers')}, nacks ${pick('edgeclass_media_nacks_received_total')}, ` +
      `plis ${pick('edgeclass_media_plis_received_total')}`);
    check(Number(pick('edgeclass_media_subscribers')) === 3, 'metrics: 3 subscribers');
    await T.screenshot({ path: path.join(SHOTS, 'video-teacher.png') });
    await students[1][1].screenshot({ path: path.join(SHOTS, 'video-student.png') });

    // The teacher reloads the page and starts the camera again: the students keep their
    // subscription (same PeerConnection, no renegotiation) and decode the new stream.
    for (const [, S] of students) await S.evaluate(() => { window.__pc = window.edgeclassVideo().pc; });
    await T.reload();
    await T.waitForSelector('#conn.open');
    for (const [, S] of students) await S.waitForSelector('#stage-video:not(.playing)');
    check(true, 'students see the camera stop when the teacher leaves');
    const before = [];
    for (const [, S] of students) before.push(await inbound(S));
    await T.click('#camera');
    await T.waitForSelector('#camera:text("Stop camera")');
    for (const [, S] of students) await S.waitForSelector('#stage-video.playing');
    await sleep(4000);
    for (let i = 0; i < students.length; i++) {
      const [name, S] = students[i];
      const same = await S.evaluate(() => window.__pc === window.edgeclassVideo().pc);
      const b = await inbound(S);
      console.log(`${name} after the teacher's reload: video frames ${before[i].video?.frames} -> ${b.video?.frames}`);
      check(same && b.video.frames > before[i].video.frames + 30, `${name}: video resumes on the same subscription`);
    }

    // The teacher stops the camera: the students' stage goes back to the placeholder.
    await T.click('#camera');
    for (const [name, S] of students) {
      await S.waitForSelector('#stage-video:not(.playing)');
      check(true, `${name} sees the camera stop`);
    }
  } finally {
    await browser.close();
    server.proc.kill('SIGTERM');
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
}

main().then(() => {
  if (process.exitCode) console.error('FAILED: page errors');
  else console.log('e2e live video: all checks passed');
}).catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
