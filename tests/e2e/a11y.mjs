// Accessibility pass with axe-core (@axe-core/playwright) on the teacher and student pages:
// the teacher's course view, the student's join form, and both live pages, in English and
// again in Chinese (switched with the page's language switch). A serious or critical
// violation fails the test, with the rule and the elements printed.
import AxeBuilder from '@axe-core/playwright';

import { check, runScenario } from './harness.mjs';

// Page waits (selectors, functions): generous for a loaded 2-core machine, where a wait that
// crosses processes (server, Chromium's renderers, the SFU) can take seconds; met, it returns at once.
const TIMEOUT = 30000;

async function axeCheck(page, what) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) {
    console.error(`axe ${what}: ${v.impact} ${v.id}: ${v.help}`);
    for (const n of v.nodes.slice(0, 5)) console.error(`   ${n.target.join(' ')}: ${n.failureSummary}`);
  }
  const minor = result.violations.map((v) => `${v.id} (${v.impact})`).join(', ') || 'none';
  check(bad.length === 0, `${what}: no serious or critical axe-core violations (others: ${minor})`);
}

async function switchTo(page, lang) {
  await page.selectOption('#lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

runScenario('accessibility', { timeout: TIMEOUT }, async ({ open }) => {
  const T = await open('teacher.html', 'usr_t', 'Ms Wang', 'teacher');
  await T.fill('#course-title', 'Grade 8 Maths');
  await T.click('#new-course button[type=submit]');
  await T.waitForFunction(() => /^[A-Z2-9]{8}$/.test(document.getElementById('join-code').textContent));
  const code = await T.locator('#join-code').innerText();
  const S = await open(`student.html?code=${code}`, 'usr_s', 'Li Lei', 'student');
  await axeCheck(S, 'en: student join form');
  await S.click('#join');
  await S.waitForSelector('#setup-msg:not(:empty)');
  await T.reload();
  await T.waitForSelector('#roster li[data-student="usr_s"]');
  await axeCheck(T, 'en: teacher course view (code, roster, history, gradebook)');

  await T.click('#go-live');
  await T.waitForSelector('#conn.open');
  await S.waitForSelector('#conn.open');
  await T.waitForSelector('#people li[data-user="usr_s"]');
  await S.click('#hand');
  await T.waitForSelector('#hands li[data-user="usr_s"]');
  await axeCheck(T, 'en: teacher live page');
  await axeCheck(S, 'en: student live page');

  await switchTo(T, 'zh-CN');
  await switchTo(S, 'zh-CN');
  await axeCheck(T, 'zh-CN: teacher live page');
  await axeCheck(S, 'zh-CN: student live page');
});
