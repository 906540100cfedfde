// Headless Chromium against the real SFU (media_browser_harness): a teacher page publishes
// a canvas video track and an oscillator audio track; a student who joined before the
// teacher and one who joins after subscribe with recvonly transceivers and must decode
// video frames and receive audio. Then the teacher
// "reloads" (a new PeerConnection with new SSRCs publishes into the same feed) and the
// student keeps decoding on the same transceivers, without renegotiation.
//
//   node chromium_sfu.cjs <path to media_browser_harness>     (see run.sh)
const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const readline = require('node:readline');

const harnessPath = process.argv[2];
const harness = spawn(harnessPath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const waiters = [];
readline.createInterface({ input: harness.stdout }).on('line', (line) => {
  const w = waiters.shift();
  if (w) w(JSON.parse(line));
});
const next = () => new Promise((resolve) => waiters.push(resolve));
const call = (obj) => {
  const p = next();
  harness.stdin.write(JSON.stringify(obj) + '\n');
  return p;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function publish(page) {
  return page.evaluate(async () => {
    if (window.pc) window.pc.close();
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const ctx = c.getContext('2d');
    let i = 0;
    setInterval(() => {
      ctx.fillStyle = `hsl(${(i += 7) % 360},80%,50%)`;
      ctx.fillRect(0, 0, 320, 240);
      ctx.fillStyle = '#000';
      ctx.fillRect((i * 3) % 300, 100, 20, 20);
    }, 33);
    const video = c.captureStream(30).getVideoTracks()[0];
    const ac = new AudioContext();
    const osc = ac.createOscillator();
    const dst = ac.createMediaStreamDestination();
    osc.connect(dst);
    osc.start();
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.addTransceiver(dst.stream.getAudioTracks()[0], { direction: 'sendonly' });
    pc.addTransceiver(video, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  });
}

async function subscribe(page) {
  return page.evaluate(async () => {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      const v = document.createElement(e.track.kind);
      v.autoplay = true;
      v.muted = true;
      v.srcObject = new MediaStream([e.track]);
      document.body.appendChild(v);
    };
    await pc.setLocalDescription(await pc.createOffer());
    return pc.localDescription.sdp;
  });
}

const answer = (page, sdp) =>
  page.evaluate(async (sdp) => {
    await window.pc.setRemoteDescription({ type: 'answer', sdp });
  }, sdp);

const waitConnected = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('not connected: ' + window.pc.connectionState + ' ice ' +
            window.pc.iceConnectionState + ' gathering ' + window.pc.iceGatheringState + '\n' +
            window.pc.localDescription.sdp.split('\r\n').filter((l) => l.includes('candidate')).join('\n'))), 15000);
        const check = () => {
          if (window.pc.connectionState === 'connected') {
            clearTimeout(t);
            resolve();
          }
        };
        window.pc.onconnectionstatechange = check;
        check();
      }),
  );

// Polls read() every 250 ms until ok(value) or `ms` passed; the last value. How many frames a
// fixed sleep sees depends on how fast the machine is (a loaded 2-core box decodes at a
// fraction of the rate): a check that media flows waits for enough of it instead.
async function waitFor(read, ok, ms = 30000) {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await sleep(250);
    v = await read();
  }
  return v;
}

const inbound = (page) =>
  page.evaluate(async () => {
    const out = {};
    (await window.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out[s.kind] = { packets: s.packetsReceived, frames: s.framesDecoded || 0, lost: s.packetsLost,
                        ssrc: s.ssrc, width: s.frameWidth };
      }
    });
    return out;
  });

(async () => {
  const ready = await next();
  if (!ready.ready) throw new Error('harness not ready');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--no-first-run',
           '--autoplay-policy=no-user-gesture-required', '--allow-loopback-in-peer-connection',
           '--disable-features=WebRtcHideLocalIpsWithMdns'],
  });
  let failed = [];
  try {
    const teacher = await browser.newPage();
    const student = await browser.newPage();
    const early = await browser.newPage();
    // A student who is there before the teacher starts.
    let r = await call({ op: 'subscribe', room: 'r1', participant: 'early', sdp: await subscribe(early) });
    if (!r.ok) throw new Error('early subscribe: ' + r.error);
    await answer(early, r.sdp);
    r = await call({ op: 'publish', room: 'r1', participant: 'teacher', feed: 'main', sdp: await publish(teacher) });
    if (!r.ok) throw new Error('publish: ' + r.error);
    await answer(teacher, r.sdp);
    r = await call({ op: 'subscribe', room: 'r1', participant: 'student', sdp: await subscribe(student) });
    if (!r.ok) throw new Error('subscribe: ' + r.error);
    await answer(student, r.sdp);
    await waitConnected(teacher);
    await waitConnected(student);
    await waitConnected(early);
    console.log('all connected');
    let t0 = Date.now();
    const first = await waitFor(() => inbound(student),
      (x) => x.video && x.video.frames > 10 && x.audio && x.audio.packets > 50);
    console.log(`student after ${((Date.now() - t0) / 1000).toFixed(1)} s:`, JSON.stringify(first));
    if (!(first.video && first.video.frames > 10)) failed.push('student decoded too few video frames');
    if (!(first.audio && first.audio.packets > 50)) failed.push('student received too little audio');
    t0 = Date.now();
    const earlyStats = await waitFor(() => inbound(early), (x) => x.video && x.video.frames > 10);
    console.log(`early student after ${((Date.now() - t0) / 1000).toFixed(1)} s more:`, JSON.stringify(earlyStats));
    if (!(earlyStats.video && earlyStats.video.frames > 10)) failed.push('early student decoded too few frames');

    // The teacher reloads: new PeerConnection, new SSRCs, same feed.
    r = await call({ op: 'publish', room: 'r1', participant: 'teacher', feed: 'main', sdp: await publish(teacher) });
    if (!r.ok) throw new Error('republish: ' + r.error);
    await answer(teacher, r.sdp);
    await waitConnected(teacher);
    t0 = Date.now();
    const second = await waitFor(() => inbound(student),
      (x) => x.video && first.video && x.video.frames > first.video.frames + 10);
    console.log(`student ${((Date.now() - t0) / 1000).toFixed(1)} s after the teacher reloaded:`, JSON.stringify(second));
    if (!second.video || second.video.ssrc !== first.video.ssrc) failed.push('subscriber SSRC changed');
    if (!(second.video && second.video.frames > first.video.frames + 10)) failed.push('video did not resume after the reload');
    const stats = await call({ op: 'stats', room: 'r1' });
    console.log('sfu stats:', JSON.stringify(stats));
  } catch (e) {
    failed.push(String(e));
  } finally {
    await browser.close();
    harness.stdin.end();
  }
  for (const f of failed) console.log('FAIL: ' + f);
  console.log(`${failed.length === 0 ? 1 : 0} passed, ${failed.length === 0 ? 0 : 1} failed`);
  process.exit(failed.length === 0 ? 0 : 1);
})();
