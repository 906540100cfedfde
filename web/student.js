// The student's page: join a course's live session, watch the teacher (and the student on
// stage), chat, raise a hand, go on stage when the teacher gives it, answer quizzes and see
// the score. Answers go over the socket and show as saved only when the server
// acknowledges them (after they are durably stored).
import { Api, decodeToken, savedToken } from '/api.js';
import { closeMessage, errorMessage, initI18n, lang, t } from '/i18n.js';
import { LiveClient } from '/live.js';
import { RoomModel, publishToggle, reconnectNotice, chatLine, clear, el, histogram, toast } from '/ui.js';
import { DevicePickers, Publisher, Subscriber } from '/video.js';

initI18n(document.getElementById('topbar'));

const $ = (id) => document.getElementById(id);
const token = savedToken();
const claims = decodeToken(token);
if (!claims) location.replace(`/${location.search}`);  // an invite's ?code= survives the sign-in
const api = new Api(token);
$('me').textContent = claims ? claims.name || claims.sub : '';

let live = null;
let video = null;  // the teacher's camera and the student on stage (Subscriber)
let camera = null;  // this student's camera while it is on stage (Publisher)
// This student's shared screen while on stage (Publisher, source "screen"): the button shows on
// stage; whether the student may share is the policy's (share_screen with on_stage true: the
// default policy lets only the teacher share, and the refusal's reason is shown).
let screen = null;
let waitTimer = null;
const model = new RoomModel(render);
window.edgeclassLive = () => live;  // for the end-to-end tests and the console
window.edgeclassVideo = () => video;
window.edgeclassCamera = () => camera;
window.edgeclassScreen = () => screen;

// ---- setup --------------------------------------------------------------------------------

async function loadCourses() {
  try {
    const courses = await api.listCourses();
    const sel = clear($('courses'));
    sel.append(el('option', { value: '' }, courses.length ? t('student.join.choose') : t('student.join.nocourses')));
    for (const c of courses) sel.append(el('option', { value: c.id }, c.title));
  } catch (err) {
    $('setup-msg').textContent = errorMessage(err);
  }
}

$('join-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const code = $('join-code').value.trim();
  let courseId = $('course-id').value.trim() || $('courses').value;
  if (!code && !courseId) return;
  clearTimeout(waitTimer);
  try {
    // A class code (typed, or from an invite link) joins its course; else the id or the list.
    if (code) courseId = (await api.joinByCode(code)).course_id;
    else await api.joinCourse(courseId);
    await findSession(courseId);
  } catch (err) {
    $('setup-msg').textContent = errorMessage(err);
  }
});

async function findSession(courseId) {
  const sessions = await api.liveSessions(courseId);
  if (sessions.length) return startLive(sessions[0]);
  $('setup-msg').textContent = t('student.join.waiting');
  waitTimer = setTimeout(() => findSession(courseId).catch(() => {}), 3000);
  return undefined;
}

function startLive(s) {
  $('setup').hidden = true;
  $('live').hidden = false;
  $('session-title').textContent = s.title || t('student.live.default');
  history.replaceState(null, '', `?session=${s.id}`);
  live = new LiveClient({ sessionId: s.id, token });
  video = new Subscriber(live, $('stage-video'), { stageVideo: $('onstage-video'), screenVideo: $('screen-video') });
  camera = new Publisher(live, $('onstage-video'));
  screen = new Publisher(live, $('screen-video'), { source: 'screen' });
  screen.addEventListener('change', renderShare);
  new DevicePickers(camera, $('devices'), { onError: (err) => toast(t('camera.error', { message: err.message }), 'error') });
  live.addEventListener('welcome', (e) => {
    model.welcome(e.detail);
    // A new connection lost the old one's media: still on stage, publish again.
    if (onStage && camera.on) camera.publish().catch((err) => toast(t('camera.error', { message: err.message }), 'error'));
    if (onStage && screen.on) screen.publish().catch((err) => toast(t('screen.error', { message: err.message }), 'error'));
  });
  live.addEventListener('media', (e) => {
    if (e.detail.type !== 'media.disconnected' || e.detail.connection !== 'publish' || !onStage) return;
    if ((e.detail.source || 'camera') === 'camera' && camera.on) {
      camera.publish().catch((err) => toast(t('camera.error', { message: err.message }), 'error'));
    } else if (e.detail.source === 'screen' && screen.on) {
      screen.publish().catch((err) => toast(t('screen.error', { message: err.message }), 'error'));
    }
  });
  live.addEventListener('event', (e) => model.apply(e.detail));
  live.addEventListener('reply', (e) => {
    if (e.detail.type !== 'error') return;
    toast(errorMessage(e.detail), 'error');
    if (e.detail.ref && e.detail.ref === pendingAnswerRef) {
      pendingAnswerRef = null;
      $('submit-answers').disabled = false;
    }
  });
  const notice = reconnectNotice();
  live.addEventListener('status', (e) => {
    const { state, code, reason } = e.detail;
    notice(e.detail);
    connState = state;
    $('conn').textContent = t(`conn.${state}`);
    $('conn').className = `pill ${state}`;
    if (state === 'closed') {
      // Removed, or the session is over: the camera, microphone and screen are released.
      if (camera.on) camera.stop();
      if (screen.on) screen.stop();
      toast(closeMessage(code, reason), code === 1000 ? 'info' : 'error');
    }
  });
  live.connect();
}

// ---- rendering ----------------------------------------------------------------------------

let connState = 'offline';

function render(part) {
  if (part === 'all' || part === 'people') {
    $('stage-count').textContent = t('student.inclass', { n: model.count });
  }
  if (part === 'all' || part === 'chat') renderChat();
  if (part === 'all' || part === 'hands') {
    $('hand').dataset.i18n = model.handRaised ? 'student.hand.lower' : 'student.hand.raise';
    $('hand').textContent = t($('hand').dataset.i18n);
    $('hand').classList.toggle('active', model.handRaised);
  }
  if (part === 'all' || part === 'quiz') renderQuiz();
  if (part === 'all' || part === 'stage' || part === 'session') renderStage();
  if (part === 'all' || part === 'session') {
    if (model.session && model.session.title) $('session-title').textContent = model.session.title;
    if (model.ended) {
      $('chat-input').disabled = true;
      $('hand').disabled = true;
    }
  }
}

function renderChat() {
  const muted = model.mutedAll || model.meMuted;
  $('chat-muted').hidden = !muted;
  $('chat-input').disabled = muted || model.ended;
  $('chat-input').placeholder = muted ? t('student.chat.muted.placeholder') : t('student.chat.placeholder');
  $('chat-input').setAttribute('aria-label', $('chat-input').placeholder);
  const list = clear($('chat'));
  for (const m of model.chat) list.append(chatLine(m));
  list.scrollTop = list.scrollHeight;
}

let renderedQuizId = null;
let pendingAnswerRef = null;
const myAnswers = new Map();  // quiz id -> answers sent, to show them again after the close

function renderQuiz() {
  const q = model.quiz;
  $('quiz-empty').hidden = !!(q && q.quiz);
  if (!q || !q.quiz) {
    $('quiz-form').hidden = true;
    $('quiz-result').hidden = true;
    return;
  }
  const quiz = q.quiz;
  const closed = quiz.status === 'closed';
  $('quiz-status').textContent = closed ? t('quiz.closed') : t('quiz.open');
  $('quiz-form').hidden = false;
  $('quiz-title').textContent = quiz.title;
  $('quiz-deadline').textContent = closed ? t('student.quiz.closed') : t('student.quiz.before', { time: new Date(quiz.deadline).toLocaleTimeString(lang()) });
  if (renderedQuizId !== quiz.id || closed) {
    renderedQuizId = quiz.id;
    const box = clear($('quiz-questions'));
    quiz.questions.forEach((question, i) => {
      const multi = question.kind === 'multiple';
      const correct = new Set(question.correct || []);
      box.append(el('fieldset', { class: 'answer', 'data-question': i },
        el('legend', { text: `${i + 1}. ${question.prompt}` }),
        question.options.map((o, k) => el('label', { class: `choice ${closed && correct.has(k) ? 'correct' : ''}` },
          el('input', { type: multi ? 'checkbox' : 'radio', name: `q${i}`, value: k, disabled: closed,
            checked: (myAnswers.get(quiz.id) || []).some((a) => a.question === i && a.choice.includes(k)) }),
          el('span', { text: o })))));
    });
  }
  const answered = !!q.answered;
  $('quiz-ack').hidden = !answered;
  $('submit-answers').hidden = closed || answered;
  $('submit-answers').disabled = !!pendingAnswerRef && !answered;
  if (answered) {
    pendingAnswerRef = null;
    $('quiz-questions').querySelectorAll('input').forEach((i) => { i.disabled = true; });
  }
  $('quiz-result').hidden = !closed;
  if (closed) {
    const s = q.score;
    $('score').textContent = s ? `${s.score} / ${s.max_score}` : '—';
    const dist = clear($('distribution'));
    if (q.distribution) dist.append(el('h4', { text: t('student.quiz.class') }), histogram(q.distribution));
  }
}

$('quiz-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const quiz = model.quiz && model.quiz.quiz;
  if (!quiz) return;
  const answers = [];
  document.querySelectorAll('#quiz-questions .answer').forEach((fs) => {
    const choice = [...fs.querySelectorAll('input:checked')].map((i) => parseInt(i.value, 10));
    if (choice.length) answers.push({ question: parseInt(fs.dataset.question, 10), choice });
  });
  if (!answers.length) return toast(t('student.quiz.pick'), 'error');
  myAnswers.set(quiz.id, answers);
  pendingAnswerRef = live.send({ type: 'answer', quiz_id: quiz.id, answers });
  $('submit-answers').disabled = !!pendingAnswerRef;
  return undefined;
});

// ---- the stage -----------------------------------------------------------------------------

let onStage = false;  // this student holds the stage (and its camera is on or starting)

// The teacher gave this student the stage: show it, start the camera and publish (the server
// puts a student into feed "stage"); taken back (or the session ended): stop. The server has
// already stopped the published streams by then.
function renderStage() {
  const me = model.me && model.me.id;
  const want = !!(model.stage && model.stage.user_id === me) && !model.ended;
  $('onstage').hidden = !model.stage && !want;
  $('onstage-name').textContent = want ? t('student.you') : model.stage ? model.stage.name || model.stage.user_id : '';
  $('on-stage').hidden = !want;
  if (want === onStage) return;
  onStage = want;
  if (want) {
    video.show('stage', false);  // the box shows this student's own camera, without its sound
    $('onstage-video').muted = true;
    toast(t('student.stage.toast'));
    camera.start().catch((err) => {
      toast(t('camera.error', { message: err.message }), 'error');
      if (camera.on) camera.stop();
    });
  } else {
    camera.stop();
    if (screen.on) screen.stop();
    $('onstage-video').muted = $('stage-video').muted;  // as the sound button left it
    video.show('stage', true);
  }
  renderShare();
}

// The share button: on stage only. While this student shares, the screen box shows its own
// screen (the local preview), not the subscription's.
function renderShare() {
  if (!screen) return;
  const b = $('share');
  b.hidden = !onStage;
  b.dataset.i18n = screen.on ? 'student.share.stop' : 'student.share.start';
  b.textContent = t(b.dataset.i18n);
  video.show('screen', !screen.on);
}

publishToggle($('share'), () => screen, 'screen.error', { done: () => renderShare() });

// ---- chat, hands, reconnect ---------------------------------------------------------------

$('chat-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('chat-input').value.trim();
  if (text && live.send({ type: 'chat', text })) $('chat-input').value = '';
});
$('hand').addEventListener('click', () => live.send({ type: model.handRaised ? 'hand_lower' : 'hand_raise' }));
$('reconnect').addEventListener('click', () => live.drop());
// Autoplay starts muted; the button (or a click on the video) turns the teacher's sound on.
function soundOn() {
  $('stage-video').muted = false;
  if (!onStage) $('onstage-video').muted = false;
  $('sound').hidden = true;
}
$('sound').addEventListener('click', soundOn);
$('stage-video').addEventListener('click', soundOn);
new MutationObserver(() => {
  const v = $('stage-video');
  $('sound').hidden = !(v.classList.contains('playing') && v.muted);
}).observe($('stage-video'), { attributes: true, attributeFilter: ['class'] });

// ---- start --------------------------------------------------------------------------------

// The language switch redraws what the scripts wrote.
window.addEventListener('edgeclass-language', () => {
  $('conn').textContent = model.ended ? t('conn.ended') : t(`conn.${connState}`);
  if ($('live').hidden) loadCourses();
  else render('all');
});

const params = new URLSearchParams(location.search);
if (params.get('session')) {
  startLive({ id: params.get('session'), title: '' });
} else {
  // An invite link (student.html?code=...) opens the page ready to join.
  const invited = params.get('code');
  if (invited) {
    $('join-code').value = invited;
    $('setup-msg').textContent = t('student.join.invited', { code: invited });
    $('join').focus();
  }
  loadCourses();
}
