// WebRTC on the live socket (docs/live-protocol.md, "Video"): the teacher publishes the
// camera to the server's SFU (feed "main"), and so does the student the teacher put on stage
// (feed "stage"); everyone subscribes to both. One RTCPeerConnection per direction;
// the browser offers, the server answers over the socket (media.answer) with its one ICE-lite
// host candidate, so no candidates are exchanged (the browser's own are not sent).
import { t } from '/i18n.js';

// Waits for the media.answer (or the error) carrying `ref`.
function answerFor(live, ref) {
  return new Promise((resolve, reject) => {
    const onMedia = (e) => {
      if (e.detail.type === 'media.answer' && e.detail.ref === ref) done(() => resolve(e.detail.sdp));
    };
    const onReply = (e) => {
      if (e.detail.type === 'error' && e.detail.ref === ref) done(() => reject(new Error(e.detail.message)));
    };
    const timer = setTimeout(() => done(() => reject(new Error('no answer from the server'))), 15000);
    function done(fn) {
      clearTimeout(timer);
      live.removeEventListener('media', onMedia);
      live.removeEventListener('reply', onReply);
      fn();
    }
    live.addEventListener('media', onMedia);
    live.addEventListener('reply', onReply);
  });
}

async function negotiate(live, pc, type, extra = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  const ref = live.send({ type, sdp: pc.localDescription.sdp, ...extra });
  if (!ref) throw new Error('not connected');
  const sdp = await answerFor(live, ref);
  await pc.setRemoteDescription({ type: 'answer', sdp });
}

// The simulcast layers the server asked for (media.config: lowest first, the top one at
// VIDEO_QUALITY), or null when it sent none (then one stream at 1280x720).
function videoLayers(live) {
  const v = live.mediaConfig;
  return v && Array.isArray(v.layers) && v.layers.length > 0 ? v.layers : null;
}

const SCREEN_MAX_BITRATE = 1500000;  // one stream (no simulcast): text must stay readable

// A camera (source "camera": microphone and camera) or a shared screen or window (source
// "screen": video only, from getDisplayMedia, policy share_screen). start() asks the browser
// and publishes; stop() stops the tracks (the browser's camera light goes off) and
// unpublishes. The camera is the teacher's, or a student's while it is on stage (the server
// picks the feed); a screen goes to feed "screen" on a PeerConnection of its own, so sharing
// never touches the camera. Camera video goes out as simulcast, one encoding per layer of
// media.config, so the server can give each student the layer its own link carries.
// Dispatches 'change' when it starts or stops (also when the browser's own "Stop sharing"
// ends a screen).
export class Publisher extends EventTarget {
  constructor(live, video, { source = 'camera' } = {}) {
    super();
    this.live = live;
    this.video = video;  // local preview
    this.source = source;
    this.stream = null;
    this.pc = null;
    this.generation = 0;  // bumped by stop(), so a start() still asking for the camera gives up
    this.devices = { audio: '', video: '' };  // chosen deviceIds ('' = the browser's default)
  }

  get on() {
    return !!this.stream;
  }

  // getUserMedia constraints for `kind` with the chosen device.
  constraint(kind) {
    const layers = videoLayers(this.live);
    const top = layers ? layers[layers.length - 1] : { width: 1280, height: 720 };
    const c = kind === 'video' ? { width: top.width, height: top.height } : {};
    if (this.devices[kind]) c.deviceId = { exact: this.devices[kind] };
    return Object.keys(c).length ? c : true;
  }

  capture() {
    if (this.source === 'screen') return navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
    return navigator.mediaDevices.getUserMedia({ audio: this.constraint('audio'), video: this.constraint('video') });
  }

  async start() {
    const gen = this.generation;
    if (!this.stream) {
      const stream = await this.capture();
      if (gen !== this.generation) {  // stopped while the browser was asking
        for (const t of stream.getTracks()) t.stop();
        return;
      }
      this.stream = stream;
      for (const t of stream.getTracks()) {
        if (this.source === 'screen') t.contentHint = 'detail';
        // The browser ended it (its "Stop sharing" bar, a camera unplugged).
        t.addEventListener('ended', () => { if (this.stream === stream) this.stop(); });
      }
      this.video.srcObject = this.stream;
      this.video.classList.add('playing');
      this.dispatchEvent(new Event('change'));
    }
    await this.publish();
  }

  // (Re)publishes the current stream on a new PeerConnection (also after a reconnect).
  async publish() {
    if (!this.stream) return;
    if (this.pc) this.pc.close();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const layers = this.source === 'camera' ? videoLayers(this.live) : null;
    for (const t of this.stream.getTracks()) {
      const init = { direction: 'sendonly' };
      if (t.kind === 'video' && layers) {
        const top = layers[layers.length - 1].height;
        init.sendEncodings = layers.map((l) => ({ rid: l.rid, scaleResolutionDownBy: top / l.height, maxBitrate: l.max_bitrate }));
      } else if (t.kind === 'video' && this.source === 'screen') {
        init.sendEncodings = [{ maxBitrate: SCREEN_MAX_BITRATE }];
      }
      pc.addTransceiver(t, init);
    }
    await negotiate(this.live, pc, 'media.publish', this.source === 'screen' ? { source: 'screen' } : {});
  }

  // Switches the microphone (`kind` "audio") or camera ("video") to `deviceId` while
  // publishing: the new track replaces the old one in the same sender (no renegotiation,
  // the students' streams go on) and the old one is stopped. Remembered for the next start().
  async setDevice(kind, deviceId) {
    this.devices[kind] = deviceId;
    if (!this.stream || this.source !== 'camera') return;
    const gen = this.generation;
    const got = await navigator.mediaDevices.getUserMedia({ [kind]: this.constraint(kind) });
    const track = got.getTracks()[0];
    if (gen !== this.generation || !this.stream) {
      track.stop();
      return;
    }
    const old = this.stream.getTracks().find((t) => t.kind === kind);
    const sender = this.pc && this.pc.getSenders().find((x) => x.track && x.track === old);
    if (sender) await sender.replaceTrack(track);
    const stream = new MediaStream([...this.stream.getTracks().filter((t) => t !== old), track]);
    track.addEventListener('ended', () => { if (this.stream === stream) this.stop(); });
    this.stream = stream;
    if (old) old.stop();
    this.video.srcObject = stream;
    this.dispatchEvent(new Event('change'));
  }

  stop() {
    const was = this.on;
    this.generation++;
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.classList.remove('playing');
    this.live.send(this.source === 'screen' ? { type: 'media.unpublish', source: 'screen' } : { type: 'media.unpublish' });
    if (was) this.dispatchEvent(new Event('change'));
  }
}

// Camera and microphone pickers (two <select>s inside `box`) for a camera Publisher: shown
// while it is on (the browser names its devices only once it was allowed to use one), filled
// from enumerateDevices() with the devices in use selected; a choice switches at once
// (Publisher.setDevice). `onError(err)` hears a switch that failed.
export class DevicePickers {
  constructor(publisher, box, { onError = () => {} } = {}) {
    this.publisher = publisher;
    this.box = box;
    this.selects = { video: box.querySelector('select[data-kind="video"]'), audio: box.querySelector('select[data-kind="audio"]') };
    for (const [kind, sel] of Object.entries(this.selects)) {
      sel.addEventListener('change', () => publisher.setDevice(kind, sel.value).catch((err) => { onError(err); this.refresh(); }));
    }
    publisher.addEventListener('change', () => this.refresh());
    if (navigator.mediaDevices) navigator.mediaDevices.addEventListener('devicechange', () => this.refresh());
    this.refresh();
  }

  refresh() {
    this.fill().catch((err) => console.warn('devices:', err.message));
  }

  async fill() {
    const p = this.publisher;
    this.box.hidden = !p.on;
    if (!p.on) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, sel] of Object.entries(this.selects)) {
      const inUse = p.stream && p.stream.getTracks().find((t) => t.kind === kind);
      const current = inUse ? inUse.getSettings().deviceId : p.devices[kind];
      const options = devices.filter((d) => d.kind === `${kind}input`);
      sel.replaceChildren(...options.map((d, i) => {
        const o = document.createElement('option');
        o.value = d.deviceId;
        o.textContent = d.label || `${kind} ${i + 1}`;
        o.selected = d.deviceId === current;
        return o;
      }));
    }
  }
}

// The SFU binds a subscription's n-th audio and n-th video section to feed n: "main" (the
// teacher's camera) and "stage" (the student on stage) have audio and video, "screen" (a
// shared screen) video only.
const FEEDS = ['main', 'stage', 'screen'];
const AUDIO_FEEDS = ['main', 'stage'];
// Feeds watched for stalls: all three. A shared screen whose picture does not change sends
// few frames (Chromium's screen capture repeats an idle screen's last frame about once a
// second, its encoder too in its zero-hertz mode), so it is judged with a longer wait
// (SCREEN_STALL_MS) than a camera.
const WATCHED = ['main', 'stage', 'screen'];

// How the page tells the truth about the class's video (docs/live-protocol.md, "When video
// stalls"): a feed that is live (media.tracks) but decoded no new frame for STALL_MS is shown
// as stalled; a subscription whose connection failed or dropped as reconnecting. The page then
// subscribes again by itself (a new PeerConnection: new ICE credentials, new transport) once
// the trouble lasted STALL_MS + the backoff, which doubles per attempt (3 s up to 48 s, with
// some jitter so a class does not come back in step) and resets after 10 s of good video.
const STALL_MS = 3000;
const SCREEN_STALL_MS = 5000;
const stallMs = (feed) => (feed === 'screen' ? SCREEN_STALL_MS : STALL_MS);
const BACKOFF_MS = [3000, 48000];  // first and longest wait before another new subscription
const GOOD_MS = 10000;  // decoding this long resets the backoff
const HEALTH_TICK_MS = 1000;

// The class's video: one subscription with two audio+video pairs, feed "main" (the teacher)
// and feed "stage" (the student on stage), so the stage changes hands without renegotiation,
// and the video of feed "screen" (the teacher's shared screen). Subscribes, once per
// connection, when one of `when` has video; `video`, `stageVideo` and `screenVideo` (each may
// be null) show the feeds while they are live. Each shown element gets a
// status line (class "video-state", in the element's parent) while its feed is stalled or
// reconnecting, and the element the class "stalled".
export class Subscriber {
  constructor(live, video, { stageVideo = null, screenVideo = null, when = FEEDS } = {}) {
    this.live = live;
    this.elements = { main: video, stage: stageVideo, screen: screenVideo };
    this.when = when;
    this.shown = { main: true, stage: true, screen: true };
    this.pc = null;
    this.busy = false;
    this.liveFeeds = new Set();  // feeds with video now (from media.tracks)
    this.streams = { main: null, stage: null, screen: null };
    this.transceivers = [];
    this.feedOf = new Map();  // transceiver -> feed
    this.videoOf = {};  // feed -> its video transceiver
    this.retry = null;  // timer of the next attempt after a failed subscribe
    // Per feed: the decoded-frame counter last seen (-1: a new subscription's, unknown) and
    // when it last moved (performance.now()); the state shown: 'ok', 'stalled', 'reconnecting'.
    this.health = {};
    this.state = {};
    this.labels = {};
    for (const feed of FEEDS) {
      this.health[feed] = { frames: -1, at: performance.now() };
      this.state[feed] = 'ok';
      const v = this.elements[feed];
      if (v && v.parentElement) {
        const label = document.createElement('div');
        label.className = 'video-state';
        label.setAttribute('role', 'status');
        label.dataset.feed = feed;
        label.hidden = true;
        v.parentElement.append(label);
        this.labels[feed] = label;
      }
    }
    this.backoff = BACKOFF_MS[0];
    this.lastAttempt = -Infinity;  // performance.now() of the last new subscription for trouble
    this.goodSince = performance.now();
    this.resubscribes = 0;  // new subscriptions made because of trouble (tests read it)
    this.checking = false;
    setInterval(() => this.checkHealth().catch((err) => console.warn('video health:', err)), HEALTH_TICK_MS);
    window.addEventListener('edgeclass-language', () => this.renderState());
    live.addEventListener('welcome', () => {  // a new connection: a new subscription
      this.liveFeeds = new Set();  // until its media.tracks
      this.reset();
    });
    live.addEventListener('media', (e) => this.onMedia(e.detail));
  }

  reset() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.streams = { main: null, stage: null, screen: null };
    this.transceivers = [];
    this.feedOf = new Map();
    this.videoOf = {};
    for (const feed of FEEDS) this.health[feed].frames = -1;  // a new counter comes
    this.render();
  }

  // Whether `feed` is shown in its element; off while someone else uses the element (a
  // student on stage shows its own camera there).
  show(feed, on) {
    this.shown[feed] = on;
    this.render();
    this.renderState();
  }

  // The RTCRtpReceiver of `feed`'s video (for statistics), or null.
  videoReceiver(feed) {
    const t = this.videoOf[feed];
    return t ? t.receiver : null;
  }

  render() {
    for (const feed of FEEDS) {
      const v = this.elements[feed];
      if (!v || !this.shown[feed]) continue;
      const src = this.pc ? this.streams[feed] : null;
      if (v.srcObject !== src) v.srcObject = src;
      v.classList.toggle('playing', !!src && this.liveFeeds.has(feed));
    }
  }

  // Whether the page expects frames of `feed` now: it is live, shown here and watched.
  expects(feed) {
    return WATCHED.includes(feed) && this.liveFeeds.has(feed) && !!this.elements[feed] && this.shown[feed];
  }

  // Once a second: reads each expected feed's decoded frames, updates the state shown, and
  // subscribes again when the trouble lasted long enough (see STALL_MS).
  async checkHealth() {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.checkHealthOnce();
    } finally {
      this.checking = false;
    }
  }

  async checkHealthOnce() {
    const now = performance.now();
    if (document.hidden) {  // a background tab may not decode: judge it once it is back
      for (const feed of FEEDS) this.health[feed].at = now;
      return;
    }
    const pc = this.pc;
    const conn = pc ? pc.connectionState : 'none';
    let worst = 0;  // how long past its stall threshold an expected feed went without a frame
    let stalled = false;  // some expected feed is past its threshold
    for (const feed of FEEDS) {
      const h = this.health[feed];
      if (!this.expects(feed)) {
        h.at = now;
        this.state[feed] = 'ok';
        continue;
      }
      const r = pc && !this.busy ? this.videoReceiver(feed) : null;
      if (r) {
        let frames = 0;
        (await r.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') frames = s.framesDecoded || 0; });
        if (pc !== this.pc) return;  // replaced meanwhile
        if (frames > h.frames && (h.frames >= 0 || frames > 0)) h.at = now;
        h.frames = frames;
      }
      const quiet = now - h.at;
      const over = quiet >= stallMs(feed);
      if (over) stalled = true;
      worst = Math.max(worst, quiet - stallMs(feed));
      const broken = conn === 'failed' || conn === 'disconnected' || conn === 'closed' ||
        ((conn === 'none' || this.busy) && over);
      this.state[feed] = broken ? 'reconnecting' : over ? 'stalled' : 'ok';
    }
    this.renderState();
    if (!stalled && conn !== 'failed') {
      if (now - this.goodSince >= GOOD_MS) this.backoff = BACKOFF_MS[0];
      return;
    }
    this.goodSince = now;
    const due = conn === 'failed' || worst >= this.backoff;
    if (!due || this.busy || now - this.lastAttempt < this.backoff) return;
    // A new subscription: new ICE credentials and a new transport at the server, which starts
    // the subscriber at a key frame.
    this.lastAttempt = now;
    this.backoff = Math.min(BACKOFF_MS[1], this.backoff * 2) * (0.9 + 0.2 * Math.random());
    this.resubscribes++;
    console.info(`video: no frames for ${Math.round(worst)} ms past the stall (connection ${conn}): subscribing again`);
    this.reset();
    this.maybeSubscribe();
  }

  renderState() {
    for (const feed of FEEDS) {
      const v = this.elements[feed];
      const label = this.labels[feed];
      if (!v || !label) continue;
      const state = this.shown[feed] ? this.state[feed] : 'ok';
      v.classList.toggle('stalled', state !== 'ok');
      v.dataset.media = state;
      label.hidden = state === 'ok';
      if (state !== 'ok') label.textContent = t(`video.${state}`);
    }
  }

  onMedia(msg) {
    if (msg.type === 'media.disconnected') {
      // The subscription died (ICE consent lost, a network change): subscribe again at once
      // rather than wait for the next media.tracks. The camera's own transport dying
      // (connection "publish") is the Publisher's business.
      // One being negotiated now is already the replacement.
      if (msg.connection === 'publish' || this.busy) return;
      this.reset();
      this.maybeSubscribe();
      return;
    }
    if (msg.type !== 'media.tracks') return;
    this.liveFeeds = new Set((msg.feeds || []).filter((f) => f.video).map((f) => f.feed));
    this.render();
    this.maybeSubscribe();
  }

  // Subscribes when one of the feeds in `when` has video and there is no subscription yet;
  // a failed attempt is retried while that holds.
  maybeSubscribe() {
    const wanted = this.when.some((f) => this.liveFeeds.has(f));
    if (!wanted || this.pc || this.busy) return;
    this.subscribe().catch((err) => {
      console.warn('subscribe:', err.message);
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.maybeSubscribe(), 2000);
    });
  }

  async subscribe() {
    this.busy = true;
    try {
      const pc = new RTCPeerConnection();
      this.pc = pc;
      this.transceivers = [];
      this.feedOf = new Map();
      this.videoOf = {};
      for (const feed of FEEDS) {
        const kinds = AUDIO_FEEDS.includes(feed) ? ['audio', 'video'] : ['video'];
        for (const kind of kinds) {
          const t = pc.addTransceiver(kind, { direction: 'recvonly' });
          this.transceivers.push(t);
          this.feedOf.set(t, feed);
          if (kind === 'video') this.videoOf[feed] = t;
        }
      }
      pc.ontrack = (e) => {
        const feed = this.feedOf.get(e.transceiver);
        if (!feed || this.pc !== pc) return;
        if (!this.streams[feed]) this.streams[feed] = new MediaStream();
        this.streams[feed].addTrack(e.track);
        this.render();
      };
      // A failed connection is shown (and replaced) at once, not at the next tick.
      pc.onconnectionstatechange = () => {
        if (this.pc === pc && pc.connectionState !== 'connected') this.checkHealth().catch((err) => console.warn('video health:', err));
      };
      await negotiate(this.live, pc, 'media.subscribe');
    } catch (err) {
      this.reset();
      throw err;
    } finally {
      this.busy = false;
    }
  }
}
