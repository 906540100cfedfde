// Browser end-to-end test of the live classroom: the real edgeclass binary, its own pages in
// headless Chromium. A teacher and two students run a class: chat, raised hands, a quiz with
// live results and scores, one student drops and catches up by resuming, the teacher ends the
// session. Exits non-zero on the first failed check.
import path from 'node:path';

import { SHOTS, check, goLiveInNewCourse, runScenario } from './harness.mjs';

// Page waits (selectors, functions): generous for a loaded 2-core machine, where a wait that
// crosses processes (server, Chromium's renderers, the SFU) can take seconds; met, it returns at once.
const TIMEOUT = 30000;

const text = (page, sel) => page.locator(sel).first().innerText();

runScenario('live class', { timeout: TIMEOUT }, async ({ server, open }) => {
  // --- the teacher creates a course and goes live
  const T = await open('teacher.html', 'usr_tess', 'Ms Tess', 'teacher');
  const courseId = await goLiveInNewCourse(T, 'Algebra 101');
  check(courseId.startsWith('crs_'), `course created (${courseId})`);
  check(true, 'teacher is live');

  // --- two students join from the course id
  const students = {};
  for (const [sub, name] of [['usr_ana', 'Ana'], ['usr_ben', 'Ben']]) {
    const S = await open('student.html', sub, name, 'student');
    await S.fill('#course-id', courseId);
    await S.click('#join');
    await S.waitForSelector('#conn.open');
    students[sub] = S;
  }
  const A = students.usr_ana;
  const B = students.usr_ben;
  await T.waitForSelector('#people li[data-user="usr_ana"]');
  await T.waitForSelector('#people li[data-user="usr_ben"]');
  check((await text(T, '#people-count')) === '3', 'teacher sees 3 participants');
  await B.evaluate(() => {
    window.__welcomes = [];
    window.edgeclassLive().addEventListener('welcome', (e) => window.__welcomes.push(e.detail.resumed));
  });

  // --- chat
  await A.fill('#chat-input', 'Hello from Ana');
  await A.press('#chat-input', 'Enter');
  await T.waitForSelector('#chat .chat-text:text("Hello from Ana")');
  await B.waitForSelector('#chat .chat-text:text("Hello from Ana")');
  check(true, 'chat reaches the teacher and the other student');

  // --- raised hands: a queue in order, lowered by the teacher. Ana raises hers once the
  // teacher sees Ben's: two sockets give no order between them, the room's arrival does.
  await B.click('#hand');
  await T.waitForSelector('#hands li[data-user="usr_ben"]');
  await A.click('#hand');
  await T.waitForSelector('#hands li[data-user="usr_ana"]');
  const order = await T.$$eval('#hands li[data-user]', (ls) => ls.map((l) => l.dataset.user));
  check(order.join(',') === 'usr_ben,usr_ana', `hands in raise order (${order})`);
  await T.click('#hands li[data-user="usr_ben"] button');
  await B.waitForSelector('#hand:not(.active)');
  await T.waitForSelector('#hands li[data-user="usr_ben"]', { state: 'detached' });
  check((await T.$$('#hands li[data-user]')).length === 1, 'teacher lowered Ben\'s hand');

  // --- quiz: build two questions and publish
  const q1 = T.locator('#questions .question').nth(0);
  await q1.locator('.q-prompt').fill('2 + 2 = ?');
  await q1.locator('.q-text').nth(0).fill('3');
  await q1.locator('.q-text').nth(1).fill('4');
  await q1.locator('.q-correct').nth(1).check();
  await T.click('#add-question');
  const q2 = T.locator('#questions .question').nth(1);
  await q2.locator('.q-kind').selectOption('true_false');
  await q2.locator('.q-prompt').fill('The sky is blue');
  await q2.locator('.q-correct').nth(0).check();
  await T.click('#publish');
  await T.waitForSelector('#quiz-live:not([hidden])');
  for (const S of [A, B]) await S.waitForSelector('#quiz-form:not([hidden]) fieldset.answer');
  check(true, 'students received the quiz');

  // Ana: both right. Ben: first wrong.
  await A.check('fieldset[data-question="0"] input[value="1"]');
  await A.check('fieldset[data-question="1"] input[value="0"]');
  await A.click('#submit-answers');
  await B.check('fieldset[data-question="0"] input[value="0"]');
  await B.check('fieldset[data-question="1"] input[value="0"]');
  await B.click('#submit-answers');
  for (const S of [A, B]) await S.waitForSelector('#quiz-ack:not([hidden])');
  check(true, 'answers acknowledged after commit');
  await T.waitForFunction(() => document.querySelector('#quiz-answered').textContent.startsWith('2 of'));
  const bars = await T.$$eval('#quiz-results .result-question:first-child .bar-value', (v) => v.map((x) => x.textContent));
  check(bars.join(',') === '1,1', `live results per option (${bars})`);
  await T.screenshot({ path: path.join(SHOTS, 'live-teacher.png'), fullPage: true });

  // --- Ben drops; the teacher chats meanwhile; Ben resumes and gets it
  await B.evaluate(() => window.edgeclassLive().drop());
  await T.fill('#chat-input', 'Closing the quiz now');
  await T.press('#chat-input', 'Enter');
  await T.waitForSelector('#chat .chat-text:text("Closing the quiz now")');
  await B.waitForSelector('#chat .chat-text:text("Closing the quiz now")');
  const welcomes = await B.evaluate(() => window.__welcomes);
  check(welcomes.length >= 1 && welcomes[welcomes.length - 1] === true,
    `Ben reconnected and resumed (welcomes: ${JSON.stringify(welcomes)})`);

  // --- close: scores and distribution
  await T.click('#close-quiz');
  await A.waitForSelector('#quiz-result:not([hidden])');
  await B.waitForSelector('#quiz-result:not([hidden])');
  await A.waitForFunction(() => document.querySelector('#score').textContent.includes('/'));
  await B.waitForFunction(() => document.querySelector('#score').textContent.includes('/'));
  check((await text(A, '#score')) === '2 / 2', 'Ana scored 2 / 2');
  check((await text(B, '#score')) === '1 / 2', 'Ben scored 1 / 2');
  await A.screenshot({ path: path.join(SHOTS, 'live-student.png'), fullPage: true });
  await T.waitForSelector('#quiz-distribution .histogram');
  await T.screenshot({ path: path.join(SHOTS, 'live-teacher-closed.png'), fullPage: true });

  // --- one window too many: Ben holds his page's socket and 4 more (the default limit is 5 per
  // user); a second page of his is refused (close 4029), says why, and connects by itself once
  // one of the others closes.
  await B.evaluate(async () => {
    const c = window.edgeclassLive();
    const url = `${c.base}/api/v1/sessions/${c.sessionId}/live?token=${encodeURIComponent(c.token)}`;
    window.__extra = [];
    for (let i = 0; i < 4; i++) {
      const ws = new WebSocket(url);
      await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onclose = (e) => reject(new Error(`extra socket ${i} closed: ${e.code} ${e.reason}`));
      });
      window.__extra.push(ws);
    }
  });
  const B2 = await open('student.html', 'usr_ben', 'Ben', 'student');
  await B2.fill('#course-id', courseId);
  await B2.click('#join');
  const refusal = await B2.waitForSelector('.toast.error:has-text("too many windows")').then((n) => n.innerText());
  check((await B2.$eval('#conn', (c) => c.className)).includes('reconnecting'),
    `one live socket over the limit (a sixth) is refused and says why (${refusal})`);
  await B.evaluate(() => window.__extra.pop().close());
  await B2.waitForSelector('#conn.open', { timeout: 30000 });
  check(true, 'it connects by itself once another window closes');
  await B2.close();
  await B.evaluate(() => window.__extra.forEach((ws) => ws.close()));

  // --- moderation: mute everyone
  await T.check('#mute-all');
  await A.waitForSelector('#chat-muted:not([hidden])');
  check(await A.$eval('#chat-input', (i) => i.disabled), 'students muted');

  // --- end: everyone gets the final event and a normal close
  T.once('dialog', (d) => d.accept());
  await T.click('#end');
  for (const S of [A, B]) await S.waitForSelector('#conn.closed');
  check(true, 'session ended for every student');
});

