// Shared by the teacher and student pages: a tiny DOM helper and the room model, which holds
// what the live protocol has told us (snapshot + events) and notifies the page on change.
import { closeMessage, t, time } from '/i18n.js';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function clock(ts) {
  return time(ts);
}

export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = el('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const t = el('div', { class: `toast ${kind}`, text: message });
  box.append(t);
  setTimeout(() => t.remove(), 5000);
}

// Says once why the live socket is reconnecting when the server gave a reason (too many
// windows open, too many messages, a link too slow to keep up, a replica restarting): not at
// every retry, and not for a plain lost connection (1006), which the status pill shows.
// Returns a listener for LiveClient's 'status' event details.
export function reconnectNotice() {
  let shown = 0;
  return ({ state, code, reason }) => {
    if (state === 'open') shown = 0;
    if (state !== 'reconnecting' || !code || code === 1006 || code === shown) return;
    shown = code;
    toast(closeMessage(code, reason), 'error');
  };
}

// A button that starts and stops one Publisher (camera or screen; `current()` returns it, as
// the pages make theirs once live): disabled while it works; an error (a policy refusal, or
// the user cancelling the browser's picker) is a toast with `errorKey`; then the button is
// enabled again when `enabled()` says so and `done()` redraws.
export function publishToggle(button, current, errorKey, { enabled = () => true, done }) {
  button.addEventListener('click', async () => {
    const publisher = current();
    if (!publisher) return;
    button.disabled = true;
    try {
      if (publisher.on) publisher.stop();
      else await publisher.start();
    } catch (err) {
      toast(t(errorKey, { message: err.message }), 'error');
      if (publisher.on) publisher.stop();
    } finally {
      button.disabled = !enabled();
      done();
    }
  });
}

// The room as this client knows it. `onchange(kind)` is called after every change with the
// part that changed: 'all', 'people', 'chat', 'hands', 'quiz', 'session', 'stage'.
export class RoomModel {
  constructor(onchange) {
    this.onchange = onchange;
    this.reset();
  }

  reset() {
    this.me = null;
    this.session = null;
    this.people = new Map();  // id -> {id, name, role, muted}
    this.count = 0;
    this.students = 0;
    this.chat = [];  // newest last
    this.mutedAll = false;
    this.meMuted = false;
    this.hands = [];  // teacher: [{user_id, name, ts}]
    this.handRaised = false;
    this.quiz = null;  // {quiz, answered, results, distribution, score}
    this.stage = null;  // the student on stage: {user_id, name}
    this.ended = false;
  }

  welcome(w) {
    this.me = w.you;
    if (w.resumed) return;
    const s = w.snapshot;
    this.reset();
    this.me = w.you;
    this.session = s.session;
    for (const p of s.participants) this.people.set(p.id, p);
    this.count = s.count;
    this.students = s.students;
    this.chat = s.chat.recent.slice();
    this.mutedAll = s.chat.muted_all;
    this.meMuted = s.chat.muted;
    this.hands = s.hands || [];
    this.handRaised = !!s.hand_raised;
    this.quiz = s.quiz;
    this.stage = s.stage || null;
    this.ended = s.session.status === 'ended';
    this.onchange('all');
  }

  apply(e) {
    switch (e.type) {
      case 'participant_joined':
        this.people.set(e.user.id, { ...e.user, muted: false });
        this.count = e.count;
        this.students = e.students;
        return this.onchange('people');
      case 'participant_left':
        this.people.delete(e.user_id);
        this.count = e.count;
        this.students = e.students;
        return this.onchange('people');
      case 'presence':  // large rooms: students get counts, not every join
        this.count = e.count;
        this.students = e.students;
        return this.onchange('people');
      case 'chat_message':
        this.chat.push(e);
        if (this.chat.length > 200) this.chat.shift();
        return this.onchange('chat');
      case 'chat_deleted':
        this.chat = this.chat.filter((m) => m.id !== e.message_id);
        return this.onchange('chat');
      case 'chat_muted':
        if (e.all) this.mutedAll = e.muted;
        else {
          const p = this.people.get(e.user_id);
          if (p) p.muted = e.muted;
          if (this.me && e.user_id === this.me.id) this.meMuted = e.muted;
        }
        this.onchange('people');
        return this.onchange('chat');
      case 'hand_raised':
        if (this.me && e.user.id === this.me.id) this.handRaised = true;
        if (!this.hands.some((h) => h.user_id === e.user.id)) {
          this.hands.push({ user_id: e.user.id, name: e.user.name, ts: e.ts });
        }
        return this.onchange('hands');
      case 'hand_lowered':
        if (this.me && e.user_id === this.me.id) this.handRaised = false;
        this.hands = this.hands.filter((h) => h.user_id !== e.user_id);
        return this.onchange('hands');
      case 'quiz_published':
        this.quiz = { quiz: e.quiz, answered: false };
        return this.onchange('quiz');
      case 'answer_accepted':
        if (this.quiz) this.quiz.answered = true;
        return this.onchange('quiz');
      case 'quiz_results':
        if (this.quiz) this.quiz.results = e;
        return this.onchange('quiz');
      case 'quiz_closed':
        this.quiz = { ...(this.quiz || {}), quiz: e.quiz, distribution: e.distribution };
        return this.onchange('quiz');
      case 'quiz_score':
        if (this.quiz) this.quiz.score = e;
        return this.onchange('quiz');
      case 'stage':
        this.stage = e.user_id ? { user_id: e.user_id, name: e.name } : null;
        return this.onchange('stage');
      case 'removed':
      case 'session_ended':
        this.ended = true;
        return this.onchange('session');
      default:
        return undefined;
    }
  }
}

// One chat line; `onDelete` adds the teacher's delete button.
export function chatLine(m, onDelete) {
  return el('li', { class: `chat-line ${m.from.role}`, 'data-id': m.id },
    el('span', { class: 'chat-time', text: clock(m.ts) }),
    el('span', { class: 'chat-from', text: m.from.name || m.from.id }),
    el('span', { class: 'chat-text', text: m.text }),
    onDelete ? el('button', { class: 'icon danger', title: t('chat.delete'), 'aria-label': t('chat.delete'), onclick: () => onDelete(m) }, '×') : null);
}

// A horizontal bar: label, fill proportional to value/max, and the value.
export function bar(label, value, max, extra = '') {
  const pct = max > 0 ? Math.round((100 * value) / max) : 0;
  return el('div', { class: `bar ${extra}` },
    el('span', { class: 'bar-label', text: label }),
    el('span', { class: 'bar-track' }, el('span', { class: 'bar-fill', style: `width:${pct}%` })),
    el('span', { class: 'bar-value', text: String(value) }));
}

export function histogram(dist) {
  const max = Math.max(1, ...dist.histogram);
  return el('div', { class: 'histogram' },
    dist.histogram.map((n, score) => bar(`${score}/${dist.max_score}`, n, max)),
    el('p', { class: 'muted', text: t('hist.summary', { answered: dist.answered, mean: dist.mean.toFixed(2), max: dist.max_score }) }));
}
