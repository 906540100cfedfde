// WebSocket client for the live protocol (docs/live-protocol.md): connects, keeps the room's
// epoch and the last event seq it processed, reconnects on its own after a lost connection
// and resumes from that seq (the server replays what was missed or sends a fresh snapshot).
//
// Events (EventTarget):
//   'welcome' detail = welcome message (with .snapshot unless .resumed)
//   'event'   detail = a sequenced server event, each exactly once, in seq order
//   'reply'   detail = an error or pong reply
//   'media'   detail = a media.* message (media.config, media.answer, media.tracks,
//             media.disconnected); the last media.config's video part is kept in .mediaConfig
//   'status'  detail = {state: 'connecting'|'open'|'reconnecting'|'closed', code, reason}

// Close codes after which reconnecting cannot help.
const FINAL_CODES = new Set([1000, 4001, 4003, 4004, 4009, 4010, 4011]);

// The English texts; the pages show i18n.js's closeMessage(code) instead.
export const CLOSE_REASONS = {
  1000: 'The session ended.',
  1001: 'The server is restarting.',
  1006: 'The connection was lost.',
  1009: 'A message was too large.',
  1012: 'This server is restarting; reconnecting to another.',
  4001: 'Your sign-in is missing or has expired.',
  4003: 'You are not allowed in this session.',
  4004: 'This session does not exist.',
  4008: 'The connection was too slow to keep up.',
  4009: 'The session is full.',
  4010: 'The session has ended.',
  4011: 'The teacher removed you from this session.',
  4029: 'Too many messages.',
};

export class LiveClient extends EventTarget {
  constructor({ sessionId, token, base }) {
    super();
    this.sessionId = sessionId;
    this.token = token;
    const loc = window.location;
    this.base = base || `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}`;
    this.epoch = '';
    this.lastSeq = 0;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.pingTimer = null;
    this.refs = 0;
  }

  connect() {
    this.stopped = false;
    const q = new URLSearchParams({ token: this.token });
    if (this.epoch) {
      q.set('epoch', this.epoch);
      q.set('last_seq', String(this.lastSeq));
    }
    const url = `${this.base}/api/v1/sessions/${this.sessionId}/live?${q}`;
    this.status(this.attempt ? 'reconnecting' : 'connecting');
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (m) => this.onMessage(m.data);
    ws.onopen = () => {
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 20000);
    };
    ws.onclose = (e) => this.onClose(ws, e);
  }

  // Sends a client message; returns its ref (added when missing), or null when not connected.
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    if (!msg.ref && msg.type !== 'ping') msg = { ...msg, ref: `r${++this.refs}` };
    this.ws.send(JSON.stringify(msg));
    return msg.ref || null;
  }

  close() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }

  // Drops the socket as if the network failed (tests and the "reconnect" button use it).
  drop() {
    if (this.ws) this.ws.close(4000, 'client drop');
  }

  status(state, code, reason) {
    this.dispatchEvent(new CustomEvent('status', { detail: { state, code, reason } }));
  }

  onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (msg.type === 'welcome') {
      this.attempt = 0;
      if (!msg.resumed) this.lastSeq = msg.seq;
      this.epoch = msg.epoch;
      this.status('open');
      this.dispatchEvent(new CustomEvent('welcome', { detail: msg }));
      if (!msg.resumed) this.lastSeq = msg.seq;
      return;
    }
    if (typeof msg.type === 'string' && msg.type.startsWith('media.')) {
      if (msg.type === 'media.config') this.mediaConfig = msg.video || null;
      this.dispatchEvent(new CustomEvent('media', { detail: msg }));
      return;
    }
    if (msg.type === 'error' || msg.type === 'pong') {
      this.dispatchEvent(new CustomEvent('reply', { detail: msg }));
      return;
    }
    if (typeof msg.seq === 'number') {
      if (msg.seq <= this.lastSeq) return;  // already applied (replayed twice)
      this.lastSeq = msg.seq;
    }
    this.dispatchEvent(new CustomEvent('event', { detail: msg }));
  }

  onClose(ws, e) {
    if (ws !== this.ws) return;
    clearInterval(this.pingTimer);
    this.ws = null;
    const code = e.code;
    if (this.stopped || FINAL_CODES.has(code)) {
      this.status('closed', code, e.reason || CLOSE_REASONS[code] || '');
      return;
    }
    this.attempt += 1;
    // 1012: this replica of a city stops and another can take the socket now.
    const delay =
      code === 1012 && this.attempt === 1 ? 0 : Math.min(5000, 250 * 2 ** Math.min(this.attempt, 5));
    this.status('reconnecting', code, e.reason || CLOSE_REASONS[code] || '');
    setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }
}
