// WebRTC on the live socket (docs/live-protocol.md, "Video"): the teacher publishes the
// camera to the server's SFU, everyone else subscribes. One RTCPeerConnection per direction;
// the browser offers, the server answers over the socket (media.answer) with its one ICE-lite
// host candidate, so no candidates are exchanged (the browser's own are not sent).

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

// The teacher's camera: start() asks for audio+video and publishes; stop() unpublishes.
export class Publisher {
  constructor(live, video) {
    this.live = live;
    this.video = video;  // local preview
    this.stream = null;
    this.pc = null;
  }

  get on() {
    return !!this.stream;
  }

  async start() {
    if (!this.stream) {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
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
    for (const t of this.stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
    await negotiate(this.live, pc, 'media.publish');
  }

  stop() {
    if (this.pc) this.pc.close();
    this.pc = null;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.classList.remove('playing');
    this.live.send({ type: 'media.unpublish' });
  }
}

// A student's view of the teacher: subscribes when the "main" feed has video, once per
// connection (the SFU keeps the same transceivers across a teacher reload).
export class Subscriber {
  constructor(live, video) {
    this.live = live;
    this.video = video;
    this.pc = null;
    this.busy = false;
    live.addEventListener('welcome', () => this.reset());  // a new connection: a new subscription
    live.addEventListener('media', (e) => this.onMedia(e.detail));
  }

  reset() {
    if (this.pc) this.pc.close();
    this.pc = null;
    this.video.srcObject = null;
    this.video.classList.remove('playing');
  }

  onMedia(msg) {
    if (msg.type === 'media.disconnected') {
      this.reset();
      return;
    }
    if (msg.type !== 'media.tracks') return;
    const main = (msg.feeds || []).find((f) => f.feed === 'main');
    const live = !!(main && main.video);
    this.video.classList.toggle('playing', live && !!this.pc);
    if (live && !this.pc && !this.busy) this.subscribe().catch((err) => console.warn('subscribe:', err.message));
  }

  async subscribe() {
    this.busy = true;
    try {
      const pc = new RTCPeerConnection();
      this.pc = pc;
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      const stream = new MediaStream();
      pc.ontrack = (e) => {
        stream.addTrack(e.track);
        this.video.srcObject = stream;
        this.video.classList.add('playing');
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
