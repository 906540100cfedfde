// Video on shaped networks (tests/network/e2e_network.sh, `make e2e-network`; issue 14). The
// server runs in a namespace of its own; the teacher's page publishes simulcast (media.config:
// 180p, 360p, 720p) from a clean namespace; one student watches on the same clean link, one
// behind 400 kbit/s, and (E2E_NETWORK_LOSSY=1) one behind 5 % random loss. After the
// students settle, 10 s are measured from getStats(): the clean student must receive at
// least 640 px wide, the shaped one a lower layer below 450 kbit/s that keeps decoding at 10
// fps or more. The SFU's /metrics tell what it did (layer switches, key frame requests,
// retransmissions sent and skipped). Last line:
//   network: clean_width=W clean_kbps=K shaped_width=W shaped_kbps=K shaped_fps=F
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { SHOTS, check, goLiveInNewCourse, sleep, startServer, token } from './harness.mjs';

const TIMEOUT = 20000;
const SETTLE_S = Number(process.env.E2E_NETWORK_SECONDS || 25);
const MEASURE_S = 10;
// A port the kernel picks (the server announces it): a random one could be taken.
const MEDIA_PORT = '0';
const lossy = process.env.E2E_NETWORK_LOSSY === '1';

const launch = (executablePath) => chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required', '--ignore-certificate-errors'],
});

// The main feed's inbound video of a student's subscription, and the transport's bytes.
const videoStats = (page) => page.evaluate(async () => {
  const pc = window.edgeclassVideo() && window.edgeclassVideo().pc;
  const out = { t: performance.now() };
  if (!pc) return out;
  const mid = pc.getTransceivers()[1].mid;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video' && s.mid === mid) {
      Object.assign(out, { frames: s.framesDecoded || 0, width: s.frameWidth || 0, height: s.frameHeight || 0,
        bytes: (s.bytesReceived || 0) + (s.headerBytesReceived || 0), packets: s.packetsReceived || 0,
        lost: s.packetsLost || 0, freezes: s.freezeCount || 0, freezeS: s.totalFreezesDuration || 0,
        rtx: s.retransmittedPacketsReceived || 0, nacks: s.nackCount || 0, plis: s.pliCount || 0,
        keyframes: s.keyFramesDecoded || 0 });
    }
    if (s.type === 'transport') out.transportBytes = s.bytesReceived;
  });
  return out;
});

const main = async () => {
  const server = await startServer({
    env: { EDGECLASS_MEDIA_PORT: MEDIA_PORT, VIDEO_QUALITY: '720p' },
    failOn: ['media.unavailable', 'media.loopback_only'],
    prefix: 'edgeclass-network-',
  });
  const port = new URL(server.url).port;
  const urlOf = (ip) => `https://${ip}:${port}`;
  const browsers = [];
  try {
    const clean = await launch(process.env.CHROMIUM || '/usr/bin/chromium');
    const shaped = await launch(process.env.E2E_CHROMIUM_SHAPED);
    browsers.push(clean, shaped);
    const open = async (browser, ip, file, sub, name, role) => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await ctx.newPage();
      page.setDefaultTimeout(TIMEOUT);
      page.on('pageerror', (e) => { console.error(`[${sub}] page error: ${e.message}`); process.exitCode = 1; });
      await page.goto(`${urlOf(ip)}/${file}#token=${token(sub, name, role)}`);
      return page;
    };

    const T = await open(clean, process.env.E2E_NET_CLEAN, 'teacher.html', 'usr_tess', 'Ms Tess', 'teacher');
    const courseId = await goLiveInNewCourse(T, 'Networks 101');
    await T.click('#camera');
    await T.waitForSelector('#camera:text("Stop camera")');
    await T.waitForFunction(() => {
      const pc = window.edgeclassCamera().pc;
      return pc && pc.connectionState === 'connected';
    });
    const encodings = await T.evaluate(() => window.edgeclassCamera().pc.getSenders()
      .filter((s) => s.track && s.track.kind === 'video')[0].getParameters().encodings.map((e) => e.rid));
    check(encodings.length === 3, `the teacher publishes simulcast (${encodings.join(', ')})`);
    // The offer as Chromium wrote it (tests/media/data/chromium_simulcast_offer.sdp is one).
    fs.writeFileSync(path.join(SHOTS, 'simulcast-offer.sdp'),
      await T.evaluate(() => window.edgeclassCamera().pc.localDescription.sdp));

    const students = [['clean', clean, process.env.E2E_NET_CLEAN], ['shaped', shaped, process.env.E2E_NET_SHAPED]];
    if (lossy) {
      const b = await launch(process.env.E2E_CHROMIUM_LOSSY);
      browsers.push(b);
      students.push(['lossy', b, process.env.E2E_NET_LOSSY]);
    }
    const pages = {};
    for (const [name, browser, ip] of students) {
      const S = await open(browser, ip, 'student.html', `usr_${name}`, name, 'student');
      await S.fill('#course-id', courseId);
      await S.click('#join');
      await S.waitForSelector('#conn.open');
      await S.waitForSelector('#stage-video.playing');
      await S.waitForFunction(() => {
        const pc = window.edgeclassVideo().pc;
        return pc && pc.connectionState === 'connected';
      });
      check(true, `${name} student is subscribed and connected`);
      pages[name] = S;
    }

    // Let every student settle on its layer, printing what each gets every 5 s.
    for (let s = 0; s < SETTLE_S; s += 5) {
      await sleep(5000);
      const line = [];
      for (const [name] of students) {
        const v = await videoStats(pages[name]);
        line.push(`${name} ${v.width}x${v.height} frames ${v.frames} freezes ${v.freezes}`);
      }
      console.log(`t=${s + 5}s: ${line.join('; ')}`);
    }
    const metricsNow = async () => {
      const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
      return (n) => Number((text.match(new RegExp(`^${n} (\\S+)`, 'm')) || [])[1]);
    };
    const before = await metricsNow();
    const a = {};
    for (const [name] of students) a[name] = await videoStats(pages[name]);
    await sleep(MEASURE_S * 1000);
    const r = {};
    for (const [name] of students) {
      const b = await videoStats(pages[name]);
      const dt = (b.t - a[name].t) / 1000;
      r[name] = { width: b.width, height: b.height, kbps: Math.round(((b.bytes - a[name].bytes) * 8) / dt / 1000),
        fps: Number(((b.frames - a[name].frames) / dt).toFixed(1)), freezes: b.freezes - a[name].freezes,
        freezeS: Number((b.freezeS - a[name].freezeS).toFixed(2)), rtx: b.rtx, lost: b.lost, packets: b.packets,
        nacks: b.nacks, plis: b.plis, keyframes: b.keyframes };
      console.log(`${name}: ${JSON.stringify(r[name])}`);
    }
    const pick = await metricsNow();
    const plisSent = pick('edgeclass_media_plis_sent_total');
    const plisMeasured = plisSent - before('edgeclass_media_plis_sent_total');
    console.log(`sfu: layer switches ${pick('edgeclass_media_layer_switches_total')}, ` +
      `key frame requests from students ${pick('edgeclass_media_plis_received_total')} ` +
      `(${pick('edgeclass_media_plis_throttled_total')} throttled), to the teacher ${plisSent}, ` +
      `NACKed ${pick('edgeclass_media_nacks_received_total')}, retransmitted ${pick('edgeclass_media_retransmissions_total')}, ` +
      `skipped over budget ${pick('edgeclass_media_retransmissions_skipped_total')}`);
    // What the SFU decided for each student (its media.layer log lines).
    for (const l of server.log().split('\n').filter((x) => x.includes('"media.layer"'))) console.log(`  ${l}`);
    if (lossy) {
      console.log(`lossy: ${r.lossy.freezes} freezes (${r.lossy.freezeS} s) in ${MEASURE_S} s, ` +
        `${r.lossy.rtx} packets recovered by RTX of ${r.lossy.packets}, ${r.lossy.lost} lost`);
    }

    check(r.clean.width >= 640, `the clean student receives at least 640 px wide (${r.clean.width})`);
    check(r.clean.fps >= 10, `the clean student decodes at 10 fps or more (${r.clean.fps})`);
    check(r.shaped.width > 0 && r.shaped.width < r.clean.width,
      `the shaped student is on a lower layer (${r.shaped.width} < ${r.clean.width})`);
    check(r.shaped.kbps < 450, `the shaped student receives below 450 kbit/s (${r.shaped.kbps})`);
    check(r.shaped.fps >= 10, `the shaped student keeps decoding at 10 fps or more (${r.shaped.fps})`);
    // Settled, the class costs the teacher few key frames: at most one every 2 s over all
    // layers (the issue saw one every 3 s on the only layer, forced by the thin student).
    check(plisMeasured <= MEASURE_S / 2, `key frame requests to the teacher once settled: ${plisMeasured} in ${MEASURE_S} s ` +
      `(${plisSent} since the start)`);
    console.log('e2e video on shaped networks: all checks passed');
    console.log(`network: clean_width=${r.clean.width} clean_kbps=${r.clean.kbps} shaped_width=${r.shaped.width} ` +
      `shaped_kbps=${r.shaped.kbps} shaped_fps=${r.shaped.fps}`);
  } finally {
    for (const b of browsers) await b.close().catch(() => {});
    server.proc.kill('SIGTERM');
  }
};

main().catch((e) => {
  console.error(`FAILED: ${e.stack || e}`);
  process.exit(1);
});
