// The teacher's page: pick or create a course, see its class code and invite link, its
// enrolled students, past sessions with attendance and the gradebook to download; go live,
// run the class (people, hands, chat moderation, giving a student the stage), build and
// publish a quiz and watch its results fill in. Every string comes from i18n.js.
import { Api, decodeToken, savedToken } from '/api.js';
import { closeMessage, dateTime, duration, errorMessage, initI18n, t, time } from '/i18n.js';
import { LiveClient } from '/live.js';
import { RoomModel, publishToggle, reconnectNotice, bar, chatLine, clear, el, histogram, toast } from '/ui.js';
import { DevicePickers, Publisher, Subscriber } from '/video.js';

initI18n(document.getElementById('topbar'));

const $ = (id) => document.getElementById(id);
const token = savedToken();
const claims = decodeToken(token);
if (!claims) location.replace('/');
const api = new Api(token);
$('me').textContent = claims ? claims.name || claims.sub : '';

let session = null;
let live = null;
let camera = null;  // the teacher's camera (Publisher)
let screen = null;  // the teacher's shared screen (Publisher, source "screen")
let stageView = null;  // the student on stage (Subscriber, feed "stage")
const model = new RoomModel(render);
window.edgeclassLive = () => live;  // for the end-to-end tests and the console
window.edgeclassVideo = () => stageView;
window.edgeclassCamera = () => camera;
window.edgeclassScreen = () => screen;

// ---- setup --------------------------------------------------------------------------------

async function loadCourses(selectId) {
  const courses = await api.listCourses(claims.sub);
  const sel = clear($('courses'));
  for (const c of courses) {
    sel.append(el('option', { value: c.id, selected: c.id === selectId, 'data-title': c.title },
      `${c.title} (${t(`course.status.${c.status}`)})`));
  }
  $('go-live').disabled = courses.length === 0;
  $('setup-msg').textContent = courses.length ? '' : t('teacher.create.first');
  await loadCourse();
}

// ---- the selected course: class code, roster, past sessions, gradebook ----------------------

let joinCode = null;

function inviteLink(code) {
  return `${location.origin}/student.html?code=${encodeURIComponent(code)}`;
}

function showCode(code) {
  joinCode = code;
  $('join-code').textContent = code || t('teacher.code.none');
  $('invite-link').value = code ? inviteLink(code) : '';
  $('copy-invite').disabled = !code;
  $('live-join-code').textContent = code || '';
  $('live-code-card').hidden = !code;
}

async function loadCourse() {
  const courseId = $('courses').value;
  $('class-card').hidden = !courseId;
  $('class-lists').hidden = !courseId;
  $('attendance-card').hidden = true;
  if (!courseId) return;
  const [code] = await Promise.all([api.joinCode(courseId), loadRoster(courseId), loadHistory(courseId)]);
  // A course made before class codes has none until the first rotation.
  showCode(code || await api.rotateJoinCode(courseId));
}

async function loadRoster(courseId) {
  const students = await api.students(courseId);
  $('roster-count').textContent = String(students.length);
  const list = clear($('roster'));
  if (!students.length) list.append(el('li', { class: 'muted', text: t('teacher.roster.none') }));
  for (const s of students) {
    const name = s.student_name || s.student_id;
    list.append(el('li', { 'data-student': s.student_id },
      el('span', { class: 'name', text: name }),
      el('span', { class: 'muted small', text: s.student_id }),
      el('span', { class: 'actions' },
        el('button', { class: 'danger small', 'data-action': 'unenroll', title: t('teacher.roster.remove.title'),
          'aria-label': `${t('teacher.roster.remove')} ${name}`,
          onclick: async () => {
            if (!confirm(t('teacher.roster.remove.confirm', { name }))) return;
            try {
              await api.removeStudent(courseId, s.student_id);
              toast(t('teacher.roster.removed', { name }));
              await loadRoster(courseId);
            } catch (err) {
              toast(errorMessage(err), 'error');
            }
          } }, t('teacher.roster.remove')))));
  }
}

async function loadHistory(courseId) {
  const sessions = (await api.sessions(courseId)).slice().reverse();  // newest first
  const list = clear($('history'));
  if (!sessions.length) list.append(el('li', { class: 'muted', text: t('teacher.history.none') }));
  for (const s of sessions) {
    list.append(el('li', { 'data-session': s.id },
      el('span', { class: 'name', text: s.title || s.id }),
      el('span', { class: 'muted small', text: dateTime(s.started_at) }),
      s.status === 'live' ? el('span', { class: 'tag warn', text: t('teacher.history.live') }) : null,
      el('span', { class: 'tag', 'data-count': s.attendance ?? 0, text: t('teacher.history.attended', { n: s.attendance ?? 0 }) }),
      el('span', { class: 'actions' },
        el('button', { class: 'secondary small', 'data-action': 'attendance',
          'aria-label': `${t('teacher.history.view')}: ${s.title || s.id}`,
          onclick: () => showAttendance(s).catch((err) => toast(errorMessage(err), 'error')) },
        t('teacher.history.view')))));
  }
}

async function showAttendance(s) {
  const a = await api.attendance(s.id);
  $('attendance-card').hidden = false;
  $('attendance-title').textContent = t('teacher.att.title', { title: s.title || s.id });
  const table = clear($('attendance'));
  if (!a.items.length) {
    table.append(el('caption', { class: 'muted', text: t('teacher.att.none') }));
    return;
  }
  table.append(el('thead', {}, el('tr', {},
    ['teacher.att.name', 'teacher.att.role', 'teacher.att.joined', 'teacher.att.left', 'teacher.att.duration', 'teacher.att.visits']
      .map((k) => el('th', { scope: 'col', text: t(k) })))));
  table.append(el('tbody', {}, a.items.map((e) => el('tr', { 'data-user': e.user_id },
    el('td', { text: e.name || e.user_id }),
    el('td', { text: t(`role.${e.role}`) }),
    el('td', { text: time(e.first_joined_at) }),
    el('td', { text: e.present ? t('teacher.att.present') : time(e.last_left_at) }),
    el('td', { class: 'num', text: duration(e.duration_s) }),
    el('td', { class: 'num', text: String(e.visits) })))));
}

$('attendance-close').addEventListener('click', () => { $('attendance-card').hidden = true; });
$('courses').addEventListener('change', () => loadCourse().catch((err) => toast(errorMessage(err), 'error')));

$('rotate-code').addEventListener('click', async () => {
  const courseId = $('courses').value;
  if (!courseId || !confirm(t('teacher.code.rotate.confirm'))) return;
  try {
    const code = await api.rotateJoinCode(courseId);
    showCode(code);
    toast(t('teacher.code.rotated', { code }));
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
});

$('copy-invite').addEventListener('click', async () => {
  $('invite-link').select();
  try {
    await navigator.clipboard.writeText($('invite-link').value);
  } catch {
    document.execCommand('copy');  // pages served over plain HTTP have no clipboard API
  }
  toast(t('teacher.code.copied'));
});

// The gradebook comes with the bearer token, so it is fetched and handed to the browser as a
// download (a plain link would carry no token).
async function downloadGradebook(ext) {
  const courseId = $('courses').value;
  if (!courseId) return;
  const lang = document.documentElement.lang === 'zh-CN' ? 'zh-CN' : 'en';
  try {
    const blob = await api.download(`/api/v1/courses/${courseId}/gradebook.${ext}${ext === 'csv' ? `?lang=${lang}` : ''}`);
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `gradebook-${courseId}.${ext}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
}
$('gradebook-csv').addEventListener('click', () => downloadGradebook('csv'));
$('gradebook-json').addEventListener('click', () => downloadGradebook('json'));

$('new-course').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const cap = parseInt($('course-capacity').value, 10);
    const c = await api.createCourse($('course-title').value.trim(), cap > 0 ? cap : undefined);
    await api.activateCourse(c.id);
    $('course-title').value = '';
    await loadCourses(c.id);
    toast(t('teacher.created', { title: c.title }));
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
});

$('go-live').addEventListener('click', async () => {
  const courseId = $('courses').value;
  if (!courseId) return;
  try {
    const existing = await api.liveSessions(courseId);
    const s = existing.length ? existing[0] : await api.goLive(courseId, $('courses').selectedOptions[0].dataset.title);
    startLive(s);
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
});

$('end').addEventListener('click', async () => {
  if (!session || !confirm(t('teacher.end.confirm'))) return;
  try {
    await api.endSession(session.id);
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
});

function startLive(s) {
  session = s;
  $('setup').hidden = true;
  $('live').hidden = false;
  $('end').hidden = false;
  $('session-title').textContent = s.title || t('teacher.live.default');
  history.replaceState(null, '', `?session=${s.id}`);
  live = new LiveClient({ sessionId: s.id, token });
  camera = new Publisher(live, $('stage-video'));
  screen = new Publisher(live, $('screen-video'), { source: 'screen' });
  camera.addEventListener('change', renderMediaButtons);
  screen.addEventListener('change', renderMediaButtons);
  new DevicePickers(camera, $('devices'), { onError: (err) => toast(t('camera.error', { message: err.message }), 'error') });
  // The teacher sees itself in the local preview; it subscribes for the student on stage.
  stageView = new Subscriber(live, null, { stageVideo: $('onstage-video'), when: ['stage'] });
  live.addEventListener('welcome', (e) => {
    model.welcome(e.detail);
    // A new connection lost the old one's media: publish the camera (and screen) again.
    if (camera.on) camera.publish().catch((err) => toast(t('camera.error', { message: err.message }), 'error'));
    if (screen.on) screen.publish().catch((err) => toast(t('screen.error', { message: err.message }), 'error'));
  });
  live.addEventListener('media', (e) => {
    // The SFU lost a publishing transport (network change, consent expired): publish that
    // one again ("source" says which; a server that does not say gets both).
    if (e.detail.type !== 'media.disconnected' || e.detail.connection !== 'publish') return;
    const source = e.detail.source;
    for (const [p, name, key] of [[camera, 'camera', 'camera.error'], [screen, 'screen', 'screen.error']]) {
      if (source && source !== name) continue;
      if (p.on) p.publish().catch((err) => toast(t(key, { message: err.message }), 'error'));
    }
  });
  live.addEventListener('event', (e) => model.apply(e.detail));
  live.addEventListener('reply', (e) => {
    if (e.detail.type === 'error') toast(errorMessage(e.detail), 'error');
  });
  const notice = reconnectNotice();
  live.addEventListener('status', (e) => {
    const { state, code, reason } = e.detail;
    notice(e.detail);
    connState = state;
    $('conn').textContent = t(`conn.${state}`);
    $('conn').className = `pill ${state}`;
    if (state === 'closed') {
      $('end').hidden = true;
      releaseMedia();
      toast(closeMessage(code, reason), code === 1000 ? 'info' : 'error');
    }
  });
  live.connect();
}

// ---- rendering ----------------------------------------------------------------------------

let connState = 'offline';

function render(part) {
  if (part === 'all' || part === 'people' || part === 'stage') renderPeople();
  if (part === 'all' || part === 'chat') renderChat();
  if (part === 'all' || part === 'hands' || part === 'stage') renderHands();
  if (part === 'all' || part === 'stage') renderStage();
  if (part === 'all' || part === 'quiz') renderQuiz();
  if (part === 'all' || part === 'session') renderSession();
}

function renderPeople() {
  $('people-count').textContent = String(model.count);
  $('stage-count').textContent = model.students === 1 ? t('teacher.students.one') : t('teacher.students.count', { n: model.students });
  const list = clear($('people'));
  const people = [...model.people.values()].sort((a, b) =>
    (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'teacher' ? -1 : 1));
  for (const p of people.slice(0, 300)) {
    const student = p.role === 'student';
    list.append(el('li', { 'data-user': p.id },
      el('span', { class: 'name', text: p.name || p.id }),
      student ? null : el('span', { class: 'tag', text: t('role.teacher') }),
      p.muted ? el('span', { class: 'tag warn', text: t('teacher.tag.muted') }) : null,
      onStage(p.id) ? el('span', { class: 'tag warn', text: t('teacher.tag.onstage') }) : null,
      student ? el('span', { class: 'actions' },
        stageButton(p.id),
        el('button', { class: 'secondary small', title: p.muted ? t('teacher.unmute.title') : t('teacher.mute.title'), 'data-action': 'mute',
          onclick: () => live.send({ type: 'mute', user_id: p.id, muted: !p.muted }) }, p.muted ? t('teacher.unmute') : t('teacher.mute')),
        el('button', { class: 'danger small', title: t('teacher.remove.title'), 'data-action': 'remove',
          onclick: () => { if (confirm(t('teacher.remove.confirm', { name: p.name }))) live.send({ type: 'remove', user_id: p.id }); } }, t('teacher.remove')))
        : null));
  }
  if (people.length > 300) list.append(el('li', { class: 'muted', text: t('teacher.people.more', { n: people.length - 300 }) }));
}

function renderChat() {
  $('mute-all').checked = model.mutedAll;
  const list = clear($('chat'));
  for (const m of model.chat) {
    list.append(chatLine(m, (msg) => live.send({ type: 'chat_delete', message_id: msg.id })));
  }
  list.scrollTop = list.scrollHeight;
}

function renderHands() {
  $('hand-count').textContent = String(model.hands.length);
  const list = clear($('hands'));
  if (!model.hands.length) list.append(el('li', { class: 'muted', text: t('teacher.hands.none') }));
  for (const h of model.hands) {
    list.append(el('li', { 'data-user': h.user_id },
      el('span', { class: 'name', text: h.name || h.user_id }),
      el('span', { class: 'actions' },
        el('button', { class: 'secondary small', onclick: () => live.send({ type: 'hand_lower', user_id: h.user_id }) }, t('teacher.hands.lower')),
        stageButton(h.user_id))));
  }
}

// ---- the stage: one student at a time publishes camera and microphone ----------------------

const onStage = (id) => !!(model.stage && model.stage.user_id === id);

// "Give stage" (moves it from whoever has it) or, for the student on stage, "Take back".
function stageButton(id) {
  const on = onStage(id);
  return el('button', { class: on ? 'danger small' : 'secondary small', 'data-action': 'stage',
    title: on ? t('teacher.takeback.title') : t('teacher.givestage.title'),
    onclick: () => live.send(on ? { type: 'stage_take' } : { type: 'stage_give', user_id: id }) },
  on ? t('teacher.takeback') : t('teacher.givestage'));
}

function renderStage() {
  $('onstage').hidden = !model.stage;
  $('onstage-name').textContent = model.stage ? t('teacher.onstage', { name: model.stage.name || model.stage.user_id }) : '';
}

$('take-stage').addEventListener('click', () => live.send({ type: 'stage_take' }));
// Autoplay starts muted; a click on the student's video turns its sound on (and off).
$('onstage-video').addEventListener('click', (e) => { e.target.muted = !e.target.muted; });

function renderSession() {
  if (model.session && model.session.title) $('session-title').textContent = model.session.title;
  if (!model.ended) return;
  $('conn').textContent = t('conn.ended');
  $('end').hidden = true;
  releaseMedia();
}

// The session is over: camera, microphone and screen are released (their tracks stopped, so
// the browser's indicators go off) and the buttons no longer offer them.
function releaseMedia() {
  if (camera && camera.on) camera.stop();
  if (screen && screen.on) screen.stop();
  $('camera').disabled = true;
  $('share').disabled = true;
}

function renderMediaButtons() {
  const b = $('camera');
  b.dataset.i18n = camera.on ? 'teacher.camera.stop' : 'teacher.camera.start';
  b.textContent = t(b.dataset.i18n);
  const s = $('share');
  s.dataset.i18n = screen.on ? 'teacher.share.stop' : 'teacher.share.start';
  s.textContent = t(s.dataset.i18n);
}

// ---- quiz ---------------------------------------------------------------------------------

let currentQuiz = null;  // the quiz as created by REST (with answers)

function renderQuiz() {
  const q = model.quiz;
  const open = q && q.quiz && q.quiz.status === 'open';
  const closed = q && q.quiz && q.quiz.status === 'closed';
  $('quiz-builder').hidden = !!open || (!!closed && !showBuilder);
  $('quiz-live').hidden = !(open || (closed && !showBuilder));
  $('quiz-status').textContent = open ? t('quiz.open') : closed ? t('quiz.closed') : '';
  if (!q || !q.quiz || $('quiz-live').hidden) return;
  const quiz = q.quiz;
  $('quiz-live-title').textContent = quiz.title;
  $('close-quiz').hidden = !open;
  $('new-quiz').hidden = !closed;
  const results = q.results;
  $('quiz-answered').textContent = results ? t('teacher.quiz.answered.of', results) : '0';
  $('quiz-deadline').textContent = open ? t('teacher.quiz.closes', { time: new Date(quiz.deadline).toLocaleTimeString(document.documentElement.lang) }) : t('quiz.closed');
  const box = clear($('quiz-results'));
  quiz.questions.forEach((question, i) => {
    const r = results ? results.questions[i] : null;
    const counts = r ? r.counts : question.options.map(() => 0);
    const max = Math.max(1, r ? r.answered : 1);
    const correct = new Set(question.correct || (currentQuiz && currentQuiz.questions[i] ? currentQuiz.questions[i].correct : []));
    box.append(el('div', { class: 'result-question' },
      el('h4', { text: `${i + 1}. ${question.prompt}` }),
      question.options.map((o, k) => bar(o, counts[k], max, correct.has(k) ? 'correct' : '')),
      el('p', { class: 'muted', text: r ? t('teacher.quiz.correct.of', r) : t('teacher.quiz.noanswers') })));
  });
  const dist = clear($('quiz-distribution'));
  if (q.distribution) dist.append(el('h4', { text: t('teacher.quiz.scores') }), histogram(q.distribution));
}

let showBuilder = false;
$('new-quiz').addEventListener('click', () => { showBuilder = true; renderQuiz(); });
$('close-quiz').addEventListener('click', () => {
  if (model.quiz && model.quiz.quiz) live.send({ type: 'quiz_close', quiz_id: model.quiz.quiz.id });
});

function questionEditor() {
  const node = el('fieldset', { class: 'question' });
  const kind = el('select', { class: 'q-kind', 'aria-label': t('teacher.quiz.kind'), 'data-i18n-aria-label': 'teacher.quiz.kind' },
    el('option', { value: 'single', 'data-i18n': 'teacher.quiz.kind.single' }, t('teacher.quiz.kind.single')),
    el('option', { value: 'multiple', 'data-i18n': 'teacher.quiz.kind.multiple' }, t('teacher.quiz.kind.multiple')),
    el('option', { value: 'true_false', 'data-i18n': 'teacher.quiz.kind.tf' }, t('teacher.quiz.kind.tf')));
  const prompt = el('input', { class: 'q-prompt', placeholder: t('teacher.quiz.prompt'), 'aria-label': t('teacher.quiz.prompt'),
    'data-i18n-placeholder': 'teacher.quiz.prompt', 'data-i18n-aria-label': 'teacher.quiz.prompt', required: true, maxlength: 1000 });
  const options = el('div', { class: 'q-options' });
  const addOption = el('button', { type: 'button', class: 'secondary small', 'data-i18n': 'teacher.quiz.option.add' }, t('teacher.quiz.option.add'));
  const remove = el('button', { type: 'button', class: 'icon danger', title: t('teacher.quiz.remove'), 'aria-label': t('teacher.quiz.remove'),
    'data-i18n-title': 'teacher.quiz.remove', 'data-i18n-aria-label': 'teacher.quiz.remove', onclick: () => node.remove() }, '×');
  const option = (text = '') => {
    const multi = kind.value === 'multiple';
    const row = el('div', { class: 'q-option' },
      el('input', { type: multi ? 'checkbox' : 'radio', name: `c${node.dataset.n}`, class: 'q-correct', title: t('teacher.quiz.correct'),
        'aria-label': t('teacher.quiz.correct'), 'data-i18n-title': 'teacher.quiz.correct', 'data-i18n-aria-label': 'teacher.quiz.correct' }),
      el('input', { class: 'q-text', placeholder: t('teacher.quiz.option'), 'aria-label': t('teacher.quiz.option'), value: text, required: true, maxlength: 500,
        'data-i18n-placeholder': 'teacher.quiz.option', 'data-i18n-aria-label': 'teacher.quiz.option' }));
    options.append(row);
  };
  const reset = () => {
    clear(options);
    if (kind.value === 'true_false') {
      option(t('teacher.quiz.true')); option(t('teacher.quiz.false'));
      options.querySelectorAll('.q-text').forEach((i) => { i.readOnly = true; });
      addOption.hidden = true;
    } else {
      option(); option();
      addOption.hidden = false;
    }
  };
  node.dataset.n = String(Math.random()).slice(2);
  kind.addEventListener('change', reset);
  addOption.addEventListener('click', () => { if (options.children.length < 10) option(); });
  node.append(el('div', { class: 'row' }, kind, prompt, remove), options, addOption);
  reset();
  return node;
}

function readQuestions() {
  return [...document.querySelectorAll('#questions .question')].map((node) => {
    const kind = node.querySelector('.q-kind').value;
    const rows = [...node.querySelectorAll('.q-option')];
    const correct = rows.map((r, i) => (r.querySelector('.q-correct').checked ? i : -1)).filter((i) => i >= 0);
    const q = { kind, prompt: node.querySelector('.q-prompt').value.trim(), correct };
    if (kind !== 'true_false') q.options = rows.map((r) => r.querySelector('.q-text').value.trim());
    return q;
  });
}

$('add-question').addEventListener('click', () => $('questions').append(questionEditor()));
$('questions').append(questionEditor());

$('quiz-builder').addEventListener('submit', async (e) => {
  e.preventDefault();
  const questions = readQuestions();
  if (!questions.length) return toast(t('teacher.quiz.need.question'), 'error');
  if (questions.some((q) => !q.correct.length)) return toast(t('teacher.quiz.need.correct'), 'error');
  try {
    currentQuiz = await api.createQuiz(session.id, $('quiz-title').value.trim(), questions);
    showBuilder = false;
    live.send({ type: 'quiz_publish', quiz_id: currentQuiz.id, time_limit_s: parseInt($('time-limit').value, 10) || 60 });
  } catch (err) {
    toast(errorMessage(err), 'error');
  }
});

// ---- chat ---------------------------------------------------------------------------------

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text) return;
  if (live.send({ type: 'chat', text })) $('chat-input').value = '';
});
const sessionOpen = { enabled: () => !model.ended, done: () => renderMediaButtons() };
publishToggle($('camera'), () => camera, 'camera.error', sessionOpen);
// A screen or a window next to the camera (policy share_screen: the teacher's by default).
publishToggle($('share'), () => screen, 'screen.error', sessionOpen);

$('mute-all').addEventListener('change', (e) => live.send({ type: 'mute', muted: e.target.checked }));

// ---- start --------------------------------------------------------------------------------

$('quiz-title').value = t('teacher.quiz.default');

// The language switch redraws what the scripts wrote.
window.addEventListener('edgeclass-language', () => {
  $('conn').textContent = model.ended ? t('conn.ended') : t(`conn.${connState}`);
  if ($('live').hidden) {
    const selected = $('courses').value;
    loadCourses(selected).catch((err) => toast(errorMessage(err), 'error'));
  } else {
    render('all');
  }
});

const params = new URLSearchParams(location.search);
if (params.get('session')) {
  startLive({ id: params.get('session'), title: '' });
} else {
  loadCourses().catch((err) => toast(errorMessage(err), 'error'));
}
