// The teacher's page: pick or create a course, go live, run the class (people, hands, chat
// moderation, giving a student the stage), build and publish a quiz and watch its results
// fill in.
import { Api, decodeToken, savedToken } from '/api.js';
import { LiveClient, CLOSE_REASONS } from '/live.js';
import { RoomModel, bar, chatLine, clear, el, histogram, toast } from '/ui.js';
import { Publisher, Subscriber } from '/video.js';

const $ = (id) => document.getElementById(id);
const token = savedToken();
const claims = decodeToken(token);
if (!claims) location.replace('/');
const api = new Api(token);
$('me').textContent = claims ? claims.name || claims.sub : '';

let session = null;
let live = null;
let camera = null;  // the teacher's camera (Publisher)
let stageView = null;  // the student on stage (Subscriber, feed "stage")
const model = new RoomModel(render);
window.edgeclassLive = () => live;  // for the end-to-end tests and the console
window.edgeclassVideo = () => stageView;

// ---- setup --------------------------------------------------------------------------------

async function loadCourses(selectId) {
  const courses = await api.listCourses(claims.sub);
  const sel = clear($('courses'));
  for (const c of courses) {
    sel.append(el('option', { value: c.id, selected: c.id === selectId }, `${c.title} (${c.status})`));
  }
  $('go-live').disabled = courses.length === 0;
  $('setup-msg').textContent = courses.length ? '' : 'Create a course to begin.';
}

$('new-course').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const cap = parseInt($('course-capacity').value, 10);
    const c = await api.createCourse($('course-title').value.trim(), cap > 0 ? cap : undefined);
    await api.activateCourse(c.id);
    $('course-title').value = '';
    await loadCourses(c.id);
    toast(`Course "${c.title}" created`);
  } catch (err) {
    toast(err.message, 'error');
  }
});

$('go-live').addEventListener('click', async () => {
  const courseId = $('courses').value;
  if (!courseId) return;
  try {
    const existing = await api.liveSessions(courseId);
    const s = existing.length ? existing[0] : await api.goLive(courseId, $('courses').selectedOptions[0].textContent.replace(/ \(.*\)$/, ''));
    startLive(s);
  } catch (err) {
    toast(err.message, 'error');
  }
});

$('end').addEventListener('click', async () => {
  if (!session || !confirm('End the session for everyone?')) return;
  try {
    await api.endSession(session.id);
  } catch (err) {
    toast(err.message, 'error');
  }
});

function startLive(s) {
  session = s;
  $('setup').hidden = true;
  $('live').hidden = false;
  $('end').hidden = false;
  $('session-title').textContent = s.title || 'Live session';
  history.replaceState(null, '', `?session=${s.id}`);
  live = new LiveClient({ sessionId: s.id, token });
  camera = new Publisher(live, $('stage-video'));
  // The teacher sees itself in the local preview; it subscribes for the student on stage.
  stageView = new Subscriber(live, null, { stageVideo: $('onstage-video'), when: ['stage'] });
  live.addEventListener('welcome', (e) => {
    model.welcome(e.detail);
    // A new connection lost the old one's media: publish the camera again.
    if (camera.on) camera.publish().catch((err) => toast(`Camera: ${err.message}`, 'error'));
  });
  live.addEventListener('media', (e) => {
    // The SFU lost the camera's transport (network change, consent expired): publish again.
    if (e.detail.type === 'media.disconnected' && e.detail.connection === 'publish' && camera.on) {
      camera.publish().catch((err) => toast(`Camera: ${err.message}`, 'error'));
    }
  });
  live.addEventListener('event', (e) => model.apply(e.detail));
  live.addEventListener('reply', (e) => {
    if (e.detail.type === 'error') toast(e.detail.message, 'error');
  });
  live.addEventListener('status', (e) => {
    const { state, code, reason } = e.detail;
    $('conn').textContent = state === 'open' ? 'live' : state;
    $('conn').className = `pill ${state}`;
    if (state === 'closed') {
      $('end').hidden = true;
      toast(reason || CLOSE_REASONS[code] || `closed (${code})`, code === 1000 ? 'info' : 'error');
    }
  });
  live.connect();
}

// ---- rendering ----------------------------------------------------------------------------

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
  $('stage-count').textContent = `${model.students} student${model.students === 1 ? '' : 's'}`;
  const list = clear($('people'));
  const people = [...model.people.values()].sort((a, b) =>
    (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'teacher' ? -1 : 1));
  for (const p of people.slice(0, 300)) {
    const student = p.role === 'student';
    list.append(el('li', { 'data-user': p.id },
      el('span', { class: 'name', text: p.name || p.id }),
      student ? null : el('span', { class: 'tag', text: 'teacher' }),
      p.muted ? el('span', { class: 'tag warn', text: 'muted' }) : null,
      onStage(p.id) ? el('span', { class: 'tag warn', text: 'on stage' }) : null,
      student ? el('span', { class: 'actions' },
        stageButton(p.id),
        el('button', { class: 'secondary small', title: p.muted ? 'Let this student chat' : 'Mute this student in chat', 'data-action': 'mute',
          onclick: () => live.send({ type: 'mute', user_id: p.id, muted: !p.muted }) }, p.muted ? 'Unmute' : 'Mute'),
        el('button', { class: 'danger small', title: 'Remove from this session', 'data-action': 'remove',
          onclick: () => { if (confirm(`Remove ${p.name}?`)) live.send({ type: 'remove', user_id: p.id }); } }, 'Remove'))
        : null));
  }
  if (people.length > 300) list.append(el('li', { class: 'muted', text: `+${people.length - 300} more` }));
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
  if (!model.hands.length) list.append(el('li', { class: 'muted', text: 'No hands raised' }));
  for (const h of model.hands) {
    list.append(el('li', { 'data-user': h.user_id },
      el('span', { class: 'name', text: h.name || h.user_id }),
      el('span', { class: 'actions' },
        el('button', { class: 'secondary small', onclick: () => live.send({ type: 'hand_lower', user_id: h.user_id }) }, 'Lower'),
        stageButton(h.user_id))));
  }
}

// ---- the stage: one student at a time publishes camera and microphone ----------------------

const onStage = (id) => !!(model.stage && model.stage.user_id === id);

// "Give stage" (moves it from whoever has it) or, for the student on stage, "Take back".
function stageButton(id) {
  const on = onStage(id);
  return el('button', { class: on ? 'danger small' : 'secondary small', 'data-action': 'stage',
    title: on ? 'Stop this student\'s camera and microphone' : 'Let this student show camera and microphone to the class',
    onclick: () => live.send(on ? { type: 'stage_take' } : { type: 'stage_give', user_id: id }) },
  on ? 'Take back' : 'Give stage');
}

function renderStage() {
  $('onstage').hidden = !model.stage;
  $('onstage-name').textContent = model.stage ? `On stage: ${model.stage.name || model.stage.user_id}` : '';
}

$('take-stage').addEventListener('click', () => live.send({ type: 'stage_take' }));
// Autoplay starts muted; a click on the student's video turns its sound on (and off).
$('onstage-video').addEventListener('click', (e) => { e.target.muted = !e.target.muted; });

function renderSession() {
  if (model.session && model.session.title) $('session-title').textContent = model.session.title;
  if (!model.ended) return;
  $('conn').textContent = 'ended';
  $('end').hidden = true;
}

// ---- quiz ---------------------------------------------------------------------------------

let currentQuiz = null;  // the quiz as created by REST (with answers)

function renderQuiz() {
  const q = model.quiz;
  const open = q && q.quiz && q.quiz.status === 'open';
  const closed = q && q.quiz && q.quiz.status === 'closed';
  $('quiz-builder').hidden = !!open || (!!closed && !showBuilder);
  $('quiz-live').hidden = !(open || (closed && !showBuilder));
  $('quiz-status').textContent = open ? 'open' : closed ? 'closed' : '';
  if (!q || !q.quiz || $('quiz-live').hidden) return;
  const quiz = q.quiz;
  $('quiz-live-title').textContent = quiz.title;
  $('close-quiz').hidden = !open;
  $('new-quiz').hidden = !closed;
  const results = q.results;
  $('quiz-answered').textContent = results ? `${results.answered} of ${results.students}` : '0';
  $('quiz-deadline').textContent = open ? `closes at ${new Date(quiz.deadline).toLocaleTimeString()}` : 'closed';
  const box = clear($('quiz-results'));
  quiz.questions.forEach((question, i) => {
    const r = results ? results.questions[i] : null;
    const counts = r ? r.counts : question.options.map(() => 0);
    const max = Math.max(1, r ? r.answered : 1);
    const correct = new Set(question.correct || (currentQuiz && currentQuiz.questions[i] ? currentQuiz.questions[i].correct : []));
    box.append(el('div', { class: 'result-question' },
      el('h4', { text: `${i + 1}. ${question.prompt}` }),
      question.options.map((o, k) => bar(o, counts[k], max, correct.has(k) ? 'correct' : '')),
      el('p', { class: 'muted', text: r ? `${r.correct} of ${r.answered} correct` : 'no answers yet' })));
  });
  const dist = clear($('quiz-distribution'));
  if (q.distribution) dist.append(el('h4', { text: 'Class scores' }), histogram(q.distribution));
}

let showBuilder = false;
$('new-quiz').addEventListener('click', () => { showBuilder = true; renderQuiz(); });
$('close-quiz').addEventListener('click', () => {
  if (model.quiz && model.quiz.quiz) live.send({ type: 'quiz_close', quiz_id: model.quiz.quiz.id });
});

function questionEditor() {
  const node = el('fieldset', { class: 'question' });
  const kind = el('select', { class: 'q-kind', 'aria-label': 'Question kind' },
    el('option', { value: 'single' }, 'One answer'),
    el('option', { value: 'multiple' }, 'Several answers'),
    el('option', { value: 'true_false' }, 'True / false'));
  const prompt = el('input', { class: 'q-prompt', placeholder: 'Question', required: true, maxlength: 1000 });
  const options = el('div', { class: 'q-options' });
  const addOption = el('button', { type: 'button', class: 'secondary small' }, '+ Option');
  const remove = el('button', { type: 'button', class: 'icon danger', title: 'Remove question', onclick: () => node.remove() }, '×');
  const option = (text = '') => {
    const multi = kind.value === 'multiple';
    const row = el('div', { class: 'q-option' },
      el('input', { type: multi ? 'checkbox' : 'radio', name: `c${node.dataset.n}`, class: 'q-correct', title: 'Correct answer' }),
      el('input', { class: 'q-text', placeholder: 'Option', value: text, required: true, maxlength: 500 }));
    options.append(row);
  };
  const reset = () => {
    clear(options);
    if (kind.value === 'true_false') {
      option('True'); option('False');
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
  if (!questions.length) return toast('Add a question first', 'error');
  if (questions.some((q) => !q.correct.length)) return toast('Mark the correct answer of every question', 'error');
  try {
    currentQuiz = await api.createQuiz(session.id, $('quiz-title').value.trim(), questions);
    showBuilder = false;
    live.send({ type: 'quiz_publish', quiz_id: currentQuiz.id, time_limit_s: parseInt($('time-limit').value, 10) || 60 });
  } catch (err) {
    toast(err.message, 'error');
  }
});

// ---- chat ---------------------------------------------------------------------------------

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('chat-input').value.trim();
  if (!text) return;
  if (live.send({ type: 'chat', text })) $('chat-input').value = '';
});
$('camera').addEventListener('click', async () => {
  const b = $('camera');
  b.disabled = true;
  try {
    if (camera.on) camera.stop();
    else await camera.start();
  } catch (err) {
    toast(`Camera: ${err.message}`, 'error');
    if (camera.on) camera.stop();
  } finally {
    b.disabled = false;
    b.textContent = camera.on ? 'Stop camera' : 'Start camera';
  }
});

$('mute-all').addEventListener('change', (e) => live.send({ type: 'mute', muted: e.target.checked }));

// ---- start --------------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
if (params.get('session')) {
  startLive({ id: params.get('session'), title: '' });
} else {
  loadCourses().catch((err) => toast(err.message, 'error'));
}
