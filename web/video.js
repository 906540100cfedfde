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

async function negotiate(live, pc, type) {
  await pc.setLocalDescription(await pc.createOffer());
  const ref = live.send({ type, sdp: pc.localDescription.sdp });
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

// A camera: start() asks for audio+video and publishes; stop() unpublishes. The teacher's,
// and a student's while it is on stage (the server picks the feed). Video goes out as
// simulcast, one encoding per layer of media.config, so the server can give each student
// the layer its own link carries.
export class Publisher {
  constructor(live, video) {
    this.live = live;
    this.video = video;  // local preview
    this.stream = null;
    this.pc = null;
    this.generation = 0;  // bumped by stop(), so a start() still asking for the camera gives up
  }

  get on() {
    return !!this.stream;
  }

  async start() {
    const gen = this.generation;
    if (!this.stream) {
      const layers = videoLayers(this.live);
      const top = layers ? layers[layers.length - 1] : { width: 1280, height: 720 };
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: top.width, height: top.height } });
      if (gen !== this.generation) {  // stopped while the browser was asking
        for (const t of stream.getTracks()) t.stop();
        return;
      }
      this.stream = stream;
      this.video.srcObject = this.stream;
      this.video.classList.add('playing');
    }
    await this.publish();
  }

  // (Re)publishes the current stream on a new PeerConnection (also after a reconnect).
  async publish() {
    if (!this.stream) return;
    if (this.pc) this.pc.close();
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const layers = videoLayers(this.live);
    for (const t of this.stream.getTracks()) {
      const init = { direction: 'sendonly' };
      if (t.kind === 'video' && layers) {
        const top = layers[layers.length - 1].height;
        init.sendEncodings = layers.map((l) => ({ rid: l.rid, scaleResolutionDownBy: top / l.height, maxBitrate: l.max_bitrate }));
      }
      pc.addTransceiver(t, init);
    }
    await negotiate(this.live, pc, 'media.publish');
  }

  stop() {
    this.generation++;
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.classList.remove('playing');
    this.live.send({ type: 'media.unpublish' });
  }
}

const FEEDS = ['main', 'stage'];  // the SFU binds the n-th audio and video sections to feed n

// How the page tells the truth about the class's video (docs/live-protocol.md, "When video
// stalls"): a feed that is live (media.tracks) but decoded no new frame for STALL_MS is shown
// as stalled; a subscription whose connection failed or dropped as reconnecting. The page then
// subscribes again by itself (a new PeerConnection: new ICE credentials, new transport) once
// the trouble lasted STALL_MS + the backoff, which doubles per attempt (3 s up to 48 s, with
// some jitter so a class does not come back in step) and resets after 10 s of good video.
const STALL_MS = 3000;
const BACKOFF_MS = [3000, 48000];  // first and longest wait before another new subscription
const GOOD_MS = 10000;  // decoding this long resets the backoff
const HEALTH_TICK_MS = 1000;

// The class's video: one subscription with two audio+video pairs, feed "main" (the teacher)
// and feed "stage" (the student on stage), so the stage changes hands without renegotiation.
// Subscribes, once per connection, when one of `when` has video; `video` and `stageVideo`
// (either may be null) show the two feeds while they are live. Each shown element gets a
// status line (class "video-state", in the element's parent) while its feed is stalled or
// reconnecting, and the element the class "stalled".
export class Subscriber {
  constructor(live, video, { stageVideo = null, when = FEEDS } = {}) {
    this.live = live;
    this.elements = { main: video, stage: stageVideo };
    this.when = when;
    this.shown = { main: true, stage: true };
    this.pc = null;
    this.busy = false;
    this.liveFeeds = new Set();  // feeds with video now (from media.tracks)
    this.streams = { main: null, stage: null };
    this.transceivers = [];
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
    this.streams = { main: null, stage: null };
    this.transceivers = [];
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
    const t = this.transceivers[2 * FEEDS.indexOf(feed) + 1];
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

  // Whether the page expects frames of `feed` now: it is live and shown here.
  expects(feed) {
    return this.liveFeeds.has(feed) && !!this.elements[feed] && this.shown[feed];
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
    const pc = this.pc;
    const conn = pc ? pc.connectionState : 'none';
    let worst = 0;  // the longest time an expected feed went without a new frame
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
      worst = Math.max(worst, quiet);
      const broken = conn === 'failed' || conn === 'disconnected' || conn === 'closed' ||
        ((conn === 'none' || this.busy) && quiet >= STALL_MS);
      this.state[feed] = broken ? 'reconnecting' : quiet >= STALL_MS ? 'stalled' : 'ok';
    }
    this.renderState();
    if (worst < STALL_MS && conn !== 'failed') {
      if (now - this.goodSince >= GOOD_MS) this.backoff = BACKOFF_MS[0];
      return;
    }
    this.goodSince = now;
    const due = conn === 'failed' || worst >= STALL_MS + this.backoff;
    if (!due || this.busy || now - this.lastAttempt < this.backoff) return;
    // A new subscription: new ICE credentials and a new transport at the server, which starts
    // the subscriber at a key frame.
    this.lastAttempt = now;
    this.backoff = Math.min(BACKOFF_MS[1], this.backoff * 2) * (0.9 + 0.2 * Math.random());
    this.resubscribes++;
    console.info(`video: no frames for ${Math.round(worst)} ms (connection ${conn}): subscribing again`);
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
      for (let i = 0; i < FEEDS.length; i++) {
        this.transceivers.push(pc.addTransceiver('audio', { direction: 'recvonly' }));
        this.transceivers.push(pc.addTransceiver('video', { direction: 'recvonly' }));
      }
      pc.ontrack = (e) => {
        const i = this.transceivers.indexOf(e.transceiver);
        if (i < 0 || this.pc !== pc) return;
        const feed = FEEDS[i >> 1];
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
