// Browser end-to-end test of what a teacher needs every day, once in English and once in
// Chinese (chosen from the browser's language, then by the switch, which is remembered): the
// teacher creates a course and sees its class code and invite link; a student opens the
// invite link and joins; a mistyped code gets a localized error; the teacher goes live and
// sees the student in the room with mute, stage and remove; the session ends; the teacher
// sees the roster, the past session with its attendance, and downloads the gradebook.
// Screenshots of both pages in both languages go to SHOTS (docs/screenshots when refreshing).
// The accessibility pass over the same pages is tests/e2e/a11y.mjs.
import fs from 'node:fs';
import path from 'node:path';

import { SHOTS, check, runScenario, sleep, token } from './harness.mjs';

// Page waits (selectors, functions): generous for a loaded 2-core machine, where a wait that
// crosses processes (server, Chromium's renderers, the SFU) can take seconds; met, it returns at once.
const TIMEOUT = 30000;
const CODE_RE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/;
const text = (page, sel) => page.locator(sel).first().innerText();

// Fails on a string the dictionary lacks (i18n.js warns "i18n: no string for ...").
function watchConsole(page, who) {
  page.on('console', (m) => {
    if (m.text().includes('i18n: no string')) {
      console.error(`[${who}] ${m.text()}`);
      process.exitCode = 1;
    }
  });
}

// English words of the pages that must not be left on a Chinese page.
const ENGLISH_LEFTOVERS = ['Your courses', 'Go live', 'New course', 'Class code', 'Enrolled students',
  'Past sessions', 'Gradebook', 'Join a class', 'Raise hand', 'Chat', 'Quiz', 'Send', 'Remove', 'Mute'];

async function day(open, lang) {
  const zh = lang === 'zh-CN';
  const locale = zh ? 'zh-CN' : 'en-US';
  const tag = zh ? 'zh' : 'en';
  const suffix = zh ? '-zh' : '-en';
  const teacherName = zh ? '王老师' : 'Ms Wang';
  const studentName = zh ? '李雷' : 'Li Lei';
  const courseTitle = zh ? '初二数学（1）班' : 'Grade 8 Maths';

  // --- the teacher's page speaks the browser's language
  const T = await open('teacher.html', `usr_t_${tag}`, teacherName, 'teacher', { locale });
  watchConsole(T, 'teacher');
  // The dictionaries, as the page has them.
  const DICTIONARIES = await T.evaluate(async () => (await import('/i18n.js')).DICTIONARIES);
  const d = DICTIONARIES[lang];
  check(await T.evaluate(() => document.documentElement.lang) === lang, `${tag}: teacher page in ${lang}`);
  check((await text(T, '#go-live')) === d['teacher.golive'], `${tag}: "${d['teacher.golive']}" button`);

  await T.fill('#course-title', courseTitle);
  await T.fill('#course-capacity', '40');
  await T.click('#new-course button[type=submit]');
  await T.waitForSelector('#class-card:not([hidden])');
  await T.waitForFunction(() => /^[A-Z2-9]{8}$/.test(document.getElementById('join-code').textContent));
  const courseId = await T.$eval('#courses', (s) => s.value);
  const code = await text(T, '#join-code');
  check(CODE_RE.test(code), `${tag}: the class code ${code} has no look-alike characters`);
  const invite = await T.$eval('#invite-link', (i) => i.value);
  check(invite.endsWith(`/student.html?code=${code}`), `${tag}: invite link ${invite}`);
  check((await text(T, '#roster li')) === d['teacher.roster.none'], `${tag}: empty roster says so`);

  // --- a mistyped code: a localized message, not the server's English
  const X = await open('student.html', `usr_x_${tag}`, 'X', 'student', { locale });
  watchConsole(X, 'student x');
  await X.fill('#join-code', 'B0GUS1II');
  await X.click('#join');
  await X.waitForFunction((m) => document.getElementById('setup-msg').textContent === m, d['error.invalid_join_code']);
  check(true, `${tag}: a bad code is explained in ${lang}`);
  await X.fill('#join-code', 'ZZZZZZZZ');
  await X.click('#join');
  await X.waitForFunction((m) => document.getElementById('setup-msg').textContent === m, d['error.join_code_not_found']);
  check(true, `${tag}: an unknown code is explained in ${lang}`);
  // An invite opened before signing in keeps its code through the sign-in page.
  await X.evaluate(() => localStorage.removeItem('edgeclass.token'));
  await X.goto(invite);
  await X.waitForURL((u) => u.pathname === '/' && u.search === `?code=${code}`);
  await X.fill('#token', token(`usr_y_${tag}`, 'Y', 'student'));
  await X.click('#as-student');
  await X.waitForURL((u) => u.pathname === '/student.html');
  check((await X.$eval('#join-code', (i) => i.value)) === code, `${tag}: the invite's code survives signing in`);
  await X.context().close();

  // --- the student opens the invite link: the code is filled in, one click joins
  const url = new URL(invite);
  const S = await open(`student.html${url.search}`, `usr_s_${tag}`, studentName, 'student', { locale });
  watchConsole(S, 'student');
  check((await S.$eval('#join-code', (i) => i.value)) === code, `${tag}: the invite link fills in the code`);
  await S.screenshot({ path: path.join(SHOTS, `student-join${suffix}.png`), fullPage: true });
  await S.click('#join');
  await S.waitForFunction((m) => document.getElementById('setup-msg').textContent === m, d['student.join.waiting']);
  check(true, `${tag}: the student waits for the teacher, in ${lang}`);

  // The roster shows the student with a remove button.
  await T.reload();
  await T.waitForSelector(`#roster li[data-student="usr_s_${tag}"]`);
  check((await text(T, `#roster li[data-student="usr_s_${tag}"] .name`)) === studentName, `${tag}: roster lists ${studentName}`);
  check((await text(T, `#roster li[data-student="usr_s_${tag}"] button`)) === d['teacher.roster.remove'], `${tag}: roster has remove`);
  await T.screenshot({ path: path.join(SHOTS, `teacher-course${suffix}.png`), fullPage: true });

  // --- live: the student gets in on its own; the teacher sees it with mute, stage, remove
  await T.click('#go-live');
  await T.waitForSelector('#conn.open');
  await S.waitForSelector('#conn.open', { timeout: 30000 });
  await T.waitForSelector(`#people li[data-user="usr_s_${tag}"]`);
  const actions = await T.$$eval(`#people li[data-user="usr_s_${tag}"] button`, (bs) => bs.map((b) => b.textContent));
  check(actions.join('|') === [d['teacher.givestage'], d['teacher.mute'], d['teacher.remove']].join('|'),
    `${tag}: live participant has ${actions.join(', ')}`);
  check((await text(T, '#live-join-code')) === code, `${tag}: the code is shown while live`);
  check((await text(T, '#conn')) === d['conn.open'], `${tag}: connection pill "${d['conn.open']}"`);
  check((await text(S, '#hand')) === d['student.hand.raise'], `${tag}: "${d['student.hand.raise']}" button`);
  await T.click(`#people li[data-user="usr_s_${tag}"] button[data-action=mute]`);
  await T.waitForSelector(`#people li[data-user="usr_s_${tag}"] .tag.warn`);
  await S.waitForSelector('#chat-muted:not([hidden])');
  check((await S.$eval('#chat-input', (i) => i.placeholder)) === d['student.chat.muted.placeholder'], `${tag}: the student sees it is muted`);
  check(await S.$eval('#chat-input', (i) => i.disabled), `${tag}: the muted student cannot type`);
  await S.click('#hand');
  await T.waitForSelector(`#hands li[data-user="usr_s_${tag}"]`);
  if (zh) {
    for (const page of [T, S]) {
      const body = await page.evaluate(() => document.body.innerText);
      const left = ENGLISH_LEFTOVERS.filter((w) => new RegExp(`\\b${w}\\b`).test(body));
      check(left.length === 0, `zh: no English left on the ${page === T ? 'teacher' : 'student'} page (${left.join(', ') || 'none'})`);
    }
  }
  await sleep(300);
  await T.screenshot({ path: path.join(SHOTS, `teacher-live${suffix}.png`), fullPage: true });
  await S.screenshot({ path: path.join(SHOTS, `student-live${suffix}.png`), fullPage: true });

  // --- end: attendance in the course's history
  T.on('dialog', (dlg) => dlg.accept());
  await T.click('#end');
  await S.waitForSelector('#conn.closed');
  await sleep(300);  // the leave is recorded by the writer after the close
  await T.goto(T.url().replace(/\?.*$/, ''));
  await T.waitForSelector('#history li[data-session] [data-count]');
  const attended = await T.$eval('#history li[data-session] [data-count]', (s) => s.textContent);
  check(attended === d['teacher.history.attended'].replace('{n}', '1'), `${tag}: past session shows "${attended}"`);
  await T.click('#history li[data-session] button[data-action=attendance]');
  await T.waitForSelector(`#attendance tr[data-user="usr_s_${tag}"]`);
  const row = await T.$$eval(`#attendance tr[data-user="usr_s_${tag}"] td`, (tds) => tds.map((td) => td.textContent));
  check(row[0] === studentName && row[1] === d['role.student'] && row[5] === '1', `${tag}: attendance row ${row.join(' | ')}`);
  await T.screenshot({ path: path.join(SHOTS, `teacher-attendance${suffix}.png`), fullPage: true });

  // --- the gradebook download: UTF-8 with a BOM, the student's name as typed
  const [download] = await Promise.all([T.waitForEvent('download'), T.click('#gradebook-csv')]);
  const file = await download.path();
  const bytes = fs.readFileSync(file);
  check(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, `${tag}: gradebook starts with a BOM`);
  const csv = bytes.subarray(3).toString('utf8');
  check(csv.includes(`"${studentName}"`), `${tag}: gradebook has ${studentName}`);
  check(csv.startsWith(zh ? '"学号","姓名"' : '"Student ID","Name"'), `${tag}: gradebook header in ${lang}`);
  check(download.suggestedFilename() === `gradebook-${courseId}.csv`, `${tag}: file ${download.suggestedFilename()}`);

  // --- a new class code replaces the old one; the roster's remove unenrolls the student
  await T.click('#rotate-code');
  await T.waitForFunction((old) => {
    const c = document.getElementById('join-code').textContent;
    return c !== old && /^[A-Z2-9]{8}$/.test(c);
  }, code);
  const rotated = await text(T, '#join-code');
  check(CODE_RE.test(rotated) && (await T.$eval('#invite-link', (i) => i.value)).endsWith(`?code=${rotated}`),
    `${tag}: new code ${rotated} and its invite link`);
  await T.click(`#roster li[data-student="usr_s_${tag}"] button[data-action=unenroll]`);
  await T.waitForSelector(`#roster li[data-student="usr_s_${tag}"]`, { state: 'detached' });
  check((await text(T, '#roster li')) === d['teacher.roster.none'] && (await text(T, '#roster-count')) === '0',
    `${tag}: the student was removed from the course`);

  // --- the switch: the other language, remembered across a reload
  const other = zh ? 'en' : 'zh-CN';
  await T.selectOption('#lang', other);
  await T.waitForFunction((l) => document.documentElement.lang === l, other);
  check((await text(T, '#go-live')) === DICTIONARIES[other]['teacher.golive'], `${tag}: switched to ${other}`);
  await T.reload();
  await T.waitForSelector('#go-live');
  check(await T.evaluate(() => document.documentElement.lang) === other, `${tag}: ${other} is remembered after a reload`);
  check((await text(T, '#go-live')) === DICTIONARIES[other]['teacher.golive'], `${tag}: still ${other} after reload`);

  await T.context().close();
  await S.context().close();
}

runScenario('teacher day', { timeout: TIMEOUT }, async ({ open }) => {
  await day(open, 'en');
  await day(open, 'zh-CN');
});
