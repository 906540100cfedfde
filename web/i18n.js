// Every string the pages show, in English and Simplified Chinese. The language is the one the
// user picked with the switch on the page (remembered in localStorage), else the browser's
// (navigator.languages: any zh* is Chinese), else English. Static markup names its strings
// with data-i18n (text), data-i18n-placeholder, data-i18n-title and data-i18n-aria-label;
// scripts call t(key, vars). Error codes from the API (docs/api.md) and from the live room
// (docs/live-protocol.md) map to messages here; an unknown code falls back to the server's
// own (English) message.

const LANG_KEY = 'edgeclass.lang';
export const LANGUAGES = [['en', 'English'], ['zh-CN', '中文']];

const en = {
  'app.title': 'edgeclass',
  'page.teacher': 'edgeclass · teacher',
  'page.student': 'edgeclass · student',
  'lang.label': 'Language',

  // sign-in page
  'signin.title': 'Sign in',
  'signin.help': 'Paste the token your platform gave you. For a local server, mint one with',
  'signin.token': 'Token',
  'signin.teacher': 'I\'m teaching',
  'signin.student': 'I\'m a student',
  'signin.as': 'Signed in as {name} ({role})',
  'signin.bad': 'That does not look like a token.',

  // shared
  'conn.offline': 'offline',
  'conn.connecting': 'connecting',
  'conn.open': 'live',
  'conn.reconnecting': 'reconnecting',
  'conn.closed': 'closed',
  'conn.ended': 'ended',
  'video.empty': 'Video will appear here',
  'video.stalled': 'Video paused: no new picture for a few seconds. Reconnecting…',
  'video.reconnecting': 'Video connection lost. Reconnecting…',
  'quiz.heading': 'Quiz',
  'quiz.open': 'open',
  'quiz.closed': 'closed',
  'chat.heading': 'Chat',
  'chat.send': 'Send',
  'chat.delete': 'Delete message',
  'hist.summary': '{answered} answered · mean {mean} / {max}',
  'role.teacher': 'teacher',
  'role.student': 'student',
  'role.admin': 'admin',
  'course.status.draft': 'draft',
  'course.status.active': 'active',
  'course.status.archived': 'archived',
  'closed.code': 'closed ({code})',
  'camera.error': 'Camera: {message}',
  'screen.error': 'Screen share: {message}',
  'devices.camera': 'Camera',
  'devices.mic': 'Microphone',
  'duration.hms': '{h} h {m} min',
  'duration.ms': '{m} min {s} s',
  'duration.s': '{s} s',

  // teacher page
  'teacher.end': 'End session',
  'teacher.courses': 'Your courses',
  'teacher.course': 'Course',
  'teacher.golive': 'Go live',
  'teacher.create.first': 'Create a course to begin.',
  'teacher.new': 'New course',
  'teacher.new.title': 'Course title',
  'teacher.new.capacity': 'Capacity',
  'teacher.new.create': 'Create',
  'teacher.created': 'Course "{title}" created',
  'teacher.end.confirm': 'End the session for everyone?',
  'teacher.live.default': 'Live session',
  'teacher.camera.start': 'Start camera',
  'teacher.camera.stop': 'Stop camera',
  'teacher.share.start': 'Share screen',
  'teacher.share.stop': 'Stop sharing',
  'teacher.students.count': '{n} students',
  'teacher.students.one': '1 student',
  'teacher.onstage': 'On stage: {name}',
  'teacher.takeback': 'Take back',
  'teacher.takeback.title': 'Stop this student\'s camera and microphone',
  'teacher.givestage': 'Give stage',
  'teacher.givestage.title': 'Let this student show camera and microphone to the class',
  'teacher.video.sound': 'Click for sound',
  'teacher.quiz.title': 'Quiz title',
  'teacher.quiz.default': 'Quick check',
  'teacher.quiz.add': '+ Question',
  'teacher.quiz.limit': 'Time limit',
  'teacher.quiz.seconds': 's',
  'teacher.quiz.publish': 'Publish',
  'teacher.quiz.answered': 'answered',
  'teacher.quiz.answered.of': '{answered} of {students}',
  'teacher.quiz.closes': 'closes at {time}',
  'teacher.quiz.close': 'Close quiz',
  'teacher.quiz.new': 'New quiz',
  'teacher.quiz.correct.of': '{correct} of {answered} correct',
  'teacher.quiz.noanswers': 'no answers yet',
  'teacher.quiz.scores': 'Class scores',
  'teacher.quiz.kind': 'Question kind',
  'teacher.quiz.kind.single': 'One answer',
  'teacher.quiz.kind.multiple': 'Several answers',
  'teacher.quiz.kind.tf': 'True / false',
  'teacher.quiz.prompt': 'Question',
  'teacher.quiz.option': 'Option',
  'teacher.quiz.option.add': '+ Option',
  'teacher.quiz.remove': 'Remove question',
  'teacher.quiz.correct': 'Correct answer',
  'teacher.quiz.true': 'True',
  'teacher.quiz.false': 'False',
  'teacher.quiz.need.question': 'Add a question first',
  'teacher.quiz.need.correct': 'Mark the correct answer of every question',
  'teacher.hands': 'Hands',
  'teacher.hands.none': 'No hands raised',
  'teacher.hands.lower': 'Lower',
  'teacher.people': 'People',
  'teacher.people.more': '+{n} more',
  'teacher.tag.muted': 'muted',
  'teacher.tag.onstage': 'on stage',
  'teacher.mute': 'Mute',
  'teacher.unmute': 'Unmute',
  'teacher.mute.title': 'Mute this student in chat',
  'teacher.unmute.title': 'Let this student chat',
  'teacher.remove': 'Remove',
  'teacher.remove.title': 'Remove from this session',
  'teacher.remove.confirm': 'Remove {name}?',
  'teacher.muteall': 'Mute students',
  'teacher.chat.placeholder': 'Message the class',
  // class code, roster, gradebook, history
  'teacher.class': 'Class',
  'teacher.code': 'Class code',
  'teacher.code.none': 'none yet',
  'teacher.code.help': 'Students type this code on their page, or open the invite link.',
  'teacher.code.invite': 'Invite link',
  'teacher.code.copy': 'Copy link',
  'teacher.code.copied': 'Invite link copied',
  'teacher.code.rotate': 'New code',
  'teacher.code.rotate.confirm': 'Make a new code? The current code and invite link stop working.',
  'teacher.code.rotated': 'New class code: {code}',
  'teacher.gradebook': 'Gradebook',
  'teacher.gradebook.csv': 'Download gradebook (CSV)',
  'teacher.gradebook.json': 'JSON',
  'teacher.gradebook.help': 'One row per student, one column per quiz; opens in Excel and WPS.',
  'teacher.roster': 'Enrolled students',
  'teacher.roster.none': 'No students yet. Share the class code.',
  'teacher.roster.remove': 'Remove',
  'teacher.roster.remove.title': 'Remove this student from the course',
  'teacher.roster.remove.confirm': 'Remove {name} from the course?',
  'teacher.roster.removed': '{name} was removed from the course',
  'teacher.history': 'Past sessions',
  'teacher.history.none': 'No sessions yet.',
  'teacher.history.attended': '{n} attended',
  'teacher.history.view': 'Attendance',
  'teacher.history.live': 'live now',
  'teacher.att.title': 'Attendance: {title}',
  'teacher.att.name': 'Name',
  'teacher.att.role': 'Role',
  'teacher.att.joined': 'Joined',
  'teacher.att.left': 'Left',
  'teacher.att.duration': 'Time in class',
  'teacher.att.visits': 'Visits',
  'teacher.att.present': 'still here',
  'teacher.att.none': 'Nobody came to this session.',
  'teacher.att.close': 'Close',

  // student page
  'student.onstage': 'You are on stage',
  'student.share.start': 'Share screen',
  'student.share.stop': 'Stop sharing',
  'student.join.title': 'Join a class',
  'student.join.code': 'Class code',
  'student.join.code.placeholder': 'Class code, e.g. K7M2QX9P',
  'student.join.code.help': 'Your teacher gives you the code or an invite link.',
  'student.join.or': 'or pick a course',
  'student.join.course': 'Course',
  'student.join.id': 'or a course id (crs_…)',
  'student.join.id.label': 'Course id',
  'student.join.button': 'Join',
  'student.join.choose': 'Choose a course',
  'student.join.nocourses': 'No courses listed',
  'student.join.waiting': 'Waiting for your teacher to go live…',
  'student.join.invited': 'You were invited with class code {code}. Press Join.',
  'student.live.default': 'Live class',
  'student.inclass': '{n} in class',
  'student.sound': 'Turn sound on',
  'student.quiz.empty': 'No quiz yet. When your teacher publishes one it appears here.',
  'student.quiz.submit': 'Submit answers',
  'student.quiz.saved': 'Answers saved ✓',
  'student.quiz.score': 'Your score:',
  'student.quiz.closed': 'Closed',
  'student.quiz.before': 'Answer before {time}',
  'student.quiz.class': 'Class',
  'student.quiz.pick': 'Pick an answer first',
  'student.hand.raise': 'Raise hand',
  'student.hand.lower': 'Lower hand',
  'student.chat.muted': 'muted',
  'student.chat.muted.placeholder': 'Chat is muted',
  'student.chat.placeholder': 'Ask a question',
  'student.reconnect': 'Reconnect',
  'student.reconnect.title': 'Drop and resume the connection',
  'student.you': 'You',
  'student.stage.toast': 'You are on stage: your camera and microphone are live',

  // live close codes (docs/live-protocol.md)
  'close.1000': 'The session ended.',
  'close.1001': 'The server is restarting.',
  'close.1006': 'The connection was lost.',
  'close.1009': 'A message was too large.',
  'close.1012': 'This server is restarting; reconnecting to another.',
  'close.4001': 'Your sign-in is missing or has expired.',
  'close.4003': 'You are not allowed in this session.',
  'close.4004': 'This session does not exist.',
  'close.4008': 'The connection was too slow to keep up.',
  'close.4009': 'The session is full.',
  'close.4010': 'The session has ended.',
  'close.4011': 'The teacher removed you from this session.',
  'close.4029': 'Too many messages.',
  'close.4029.sockets': 'This class is open in too many windows or devices. Close one; this page reconnects by itself.',

  // API and live-room error codes
  'error.token_missing': 'Please sign in first.',
  'error.token_expired': 'Your sign-in has expired. Please sign in again.',
  'error.token_malformed': 'Your sign-in is not valid. Please sign in again.',
  'error.token_bad_signature': 'Your sign-in is not valid. Please sign in again.',
  'error.forbidden': 'You are not allowed to do this.',
  'error.join_denied': 'You cannot join this course: {message}',
  'error.join_code_not_found': 'No course has this class code. Check it with your teacher.',
  'error.invalid_join_code': 'A class code is 8 letters and digits (no 0, O, 1, I or L).',
  'error.course_not_found': 'This course does not exist.',
  'error.session_not_found': 'This session does not exist.',
  'error.enrollment_not_found': 'This student is not enrolled.',
  'error.course_not_active': 'The course is not active yet.',
  'error.session_already_live': 'The course is already live.',
  'error.session_ended': 'The session has ended.',
  'error.quiz_open': 'Another quiz is still open.',
  'error.quiz_closed': 'The quiz is closed.',
  'error.quiz_deadline_passed': 'Time is up for this quiz.',
  'error.deadline_passed': 'Time is up for this quiz.',
  'error.already_answered': 'You already answered.',
  'error.muted': 'The teacher muted your chat.',
  'error.rate_limited': 'You are sending messages too fast.',
  'error.not_in_room': 'You are not in the room.',
  'error.invalid_field': 'Please check what you entered.',
  'error.missing_field': 'Please fill in every field.',
  'error.write_queue_full': 'The server is busy. Please try again.',
  'error.too_many_live_sockets': 'You have too many class windows open.',
  'error.network': 'The server cannot be reached.',
};

const zh = {
  'app.title': 'edgeclass',
  'page.teacher': 'edgeclass · 教师',
  'page.student': 'edgeclass · 学生',
  'lang.label': '语言',

  'signin.title': '登录',
  'signin.help': '粘贴平台给你的令牌。本地服务器可以这样生成：',
  'signin.token': '令牌',
  'signin.teacher': '我是老师',
  'signin.student': '我是学生',
  'signin.as': '已登录：{name}（{role}）',
  'signin.bad': '这看起来不是有效的令牌。',

  'conn.offline': '离线',
  'conn.connecting': '连接中',
  'conn.open': '直播中',
  'conn.reconnecting': '重新连接中',
  'conn.closed': '已断开',
  'conn.ended': '已结束',
  'video.empty': '视频将显示在这里',
  'video.stalled': '视频暂停：几秒钟没有新画面，正在重新连接…',
  'video.reconnecting': '视频连接中断，正在重新连接…',
  'quiz.heading': '测验',
  'quiz.open': '进行中',
  'quiz.closed': '已结束',
  'chat.heading': '聊天',
  'chat.send': '发送',
  'chat.delete': '删除消息',
  'hist.summary': '{answered} 人作答 · 平均 {mean} / {max}',
  'role.teacher': '老师',
  'role.student': '学生',
  'role.admin': '管理员',
  'course.status.draft': '草稿',
  'course.status.active': '开课中',
  'course.status.archived': '已归档',
  'closed.code': '连接已关闭（{code}）',
  'camera.error': '摄像头：{message}',
  'screen.error': '屏幕共享：{message}',
  'devices.camera': '摄像头',
  'devices.mic': '麦克风',
  'duration.hms': '{h} 小时 {m} 分',
  'duration.ms': '{m} 分 {s} 秒',
  'duration.s': '{s} 秒',

  'teacher.end': '结束课堂',
  'teacher.courses': '我的课程',
  'teacher.course': '课程',
  'teacher.golive': '开始上课',
  'teacher.create.first': '先创建一门课程。',
  'teacher.new': '新建课程',
  'teacher.new.title': '课程名称',
  'teacher.new.capacity': '人数上限',
  'teacher.new.create': '创建',
  'teacher.created': '已创建课程“{title}”',
  'teacher.end.confirm': '要为所有人结束本节课吗？',
  'teacher.live.default': '直播课堂',
  'teacher.camera.start': '打开摄像头',
  'teacher.camera.stop': '关闭摄像头',
  'teacher.share.start': '共享屏幕',
  'teacher.share.stop': '停止共享',
  'teacher.students.count': '{n} 名学生',
  'teacher.students.one': '1 名学生',
  'teacher.onstage': '上台：{name}',
  'teacher.takeback': '请下台',
  'teacher.takeback.title': '关闭这名学生的摄像头和麦克风',
  'teacher.givestage': '请上台',
  'teacher.givestage.title': '让这名学生向全班展示摄像头和麦克风',
  'teacher.video.sound': '点击开启声音',
  'teacher.quiz.title': '测验标题',
  'teacher.quiz.default': '随堂小测',
  'teacher.quiz.add': '+ 题目',
  'teacher.quiz.limit': '时限',
  'teacher.quiz.seconds': '秒',
  'teacher.quiz.publish': '发布',
  'teacher.quiz.answered': '人作答',
  'teacher.quiz.answered.of': '{answered} / {students}',
  'teacher.quiz.closes': '{time} 截止',
  'teacher.quiz.close': '结束测验',
  'teacher.quiz.new': '新测验',
  'teacher.quiz.correct.of': '{answered} 人中 {correct} 人答对',
  'teacher.quiz.noanswers': '还没有人作答',
  'teacher.quiz.scores': '全班成绩',
  'teacher.quiz.kind': '题型',
  'teacher.quiz.kind.single': '单选',
  'teacher.quiz.kind.multiple': '多选',
  'teacher.quiz.kind.tf': '判断',
  'teacher.quiz.prompt': '题目',
  'teacher.quiz.option': '选项',
  'teacher.quiz.option.add': '+ 选项',
  'teacher.quiz.remove': '删除题目',
  'teacher.quiz.correct': '正确答案',
  'teacher.quiz.true': '对',
  'teacher.quiz.false': '错',
  'teacher.quiz.need.question': '请先添加题目',
  'teacher.quiz.need.correct': '请为每道题标出正确答案',
  'teacher.hands': '举手',
  'teacher.hands.none': '没有人举手',
  'teacher.hands.lower': '放下',
  'teacher.people': '在场',
  'teacher.people.more': '还有 {n} 人',
  'teacher.tag.muted': '已禁言',
  'teacher.tag.onstage': '在台上',
  'teacher.mute': '禁言',
  'teacher.unmute': '解除禁言',
  'teacher.mute.title': '禁止这名学生在聊天中发言',
  'teacher.unmute.title': '允许这名学生聊天',
  'teacher.remove': '移出',
  'teacher.remove.title': '将其移出本节课',
  'teacher.remove.confirm': '将 {name} 移出本节课？',
  'teacher.muteall': '全体禁言',
  'teacher.chat.placeholder': '给全班发消息',
  'teacher.class': '班级',
  'teacher.code': '课程码',
  'teacher.code.none': '暂无',
  'teacher.code.help': '学生在自己的页面输入此课程码，或打开邀请链接。',
  'teacher.code.invite': '邀请链接',
  'teacher.code.copy': '复制链接',
  'teacher.code.copied': '邀请链接已复制',
  'teacher.code.rotate': '更换课程码',
  'teacher.code.rotate.confirm': '更换课程码？当前的课程码和邀请链接将失效。',
  'teacher.code.rotated': '新的课程码：{code}',
  'teacher.gradebook': '成绩册',
  'teacher.gradebook.csv': '下载成绩册（CSV）',
  'teacher.gradebook.json': 'JSON',
  'teacher.gradebook.help': '每名学生一行，每次测验一列；可用 Excel 和 WPS 打开。',
  'teacher.roster': '已选课学生',
  'teacher.roster.none': '还没有学生。把课程码发给学生吧。',
  'teacher.roster.remove': '移出',
  'teacher.roster.remove.title': '将这名学生移出课程',
  'teacher.roster.remove.confirm': '将 {name} 移出课程？',
  'teacher.roster.removed': '已将 {name} 移出课程',
  'teacher.history': '往期课堂',
  'teacher.history.none': '还没有上过课。',
  'teacher.history.attended': '{n} 人出勤',
  'teacher.history.view': '考勤',
  'teacher.history.live': '正在上课',
  'teacher.att.title': '考勤：{title}',
  'teacher.att.name': '姓名',
  'teacher.att.role': '身份',
  'teacher.att.joined': '进入',
  'teacher.att.left': '离开',
  'teacher.att.duration': '在课时长',
  'teacher.att.visits': '进入次数',
  'teacher.att.present': '仍在课堂',
  'teacher.att.none': '这节课没有人来。',
  'teacher.att.close': '关闭',

  'student.onstage': '你在台上',
  'student.share.start': '共享屏幕',
  'student.share.stop': '停止共享',
  'student.join.title': '加入课堂',
  'student.join.code': '课程码',
  'student.join.code.placeholder': '课程码，例如 K7M2QX9P',
  'student.join.code.help': '老师会告诉你课程码或发给你邀请链接。',
  'student.join.or': '或选择课程',
  'student.join.course': '课程',
  'student.join.id': '或输入课程 ID（crs_…）',
  'student.join.id.label': '课程 ID',
  'student.join.button': '加入',
  'student.join.choose': '选择课程',
  'student.join.nocourses': '没有可选的课程',
  'student.join.waiting': '等待老师开始上课…',
  'student.join.invited': '你收到了课程码 {code} 的邀请，点击“加入”。',
  'student.live.default': '直播课堂',
  'student.inclass': '{n} 人在课堂',
  'student.sound': '开启声音',
  'student.quiz.empty': '还没有测验。老师发布后会显示在这里。',
  'student.quiz.submit': '提交答案',
  'student.quiz.saved': '答案已保存 ✓',
  'student.quiz.score': '你的得分：',
  'student.quiz.closed': '已结束',
  'student.quiz.before': '请在 {time} 前作答',
  'student.quiz.class': '全班',
  'student.quiz.pick': '请先选择答案',
  'student.hand.raise': '举手',
  'student.hand.lower': '放下手',
  'student.chat.muted': '已禁言',
  'student.chat.muted.placeholder': '聊天已被禁言',
  'student.chat.placeholder': '提个问题',
  'student.reconnect': '重新连接',
  'student.reconnect.title': '断开并恢复连接',
  'student.you': '你',
  'student.stage.toast': '你已上台：摄像头和麦克风已开启',

  'close.1000': '本节课已结束。',
  'close.1001': '服务器正在重启。',
  'close.1006': '连接已断开。',
  'close.1009': '消息太大。',
  'close.1012': '此服务器正在重启，正在连接另一台。',
  'close.4001': '登录信息缺失或已过期。',
  'close.4003': '你无权进入本节课。',
  'close.4004': '本节课不存在。',
  'close.4008': '网络太慢，连接已断开。',
  'close.4009': '本节课人数已满。',
  'close.4010': '本节课已结束。',
  'close.4011': '老师已将你移出本节课。',
  'close.4029': '消息发送过于频繁。',
  'close.4029.sockets': '本节课在太多窗口或设备中打开。请关闭一个，本页会自动重新连接。',

  'error.token_missing': '请先登录。',
  'error.token_expired': '登录已过期，请重新登录。',
  'error.token_malformed': '登录信息无效，请重新登录。',
  'error.token_bad_signature': '登录信息无效，请重新登录。',
  'error.forbidden': '你没有权限进行此操作。',
  'error.join_denied': '无法加入该课程：{message}',
  'error.join_code_not_found': '没有课程使用这个课程码，请向老师核对。',
  'error.invalid_join_code': '课程码由 8 位字母和数字组成（不含 0、O、1、I、L）。',
  'error.course_not_found': '课程不存在。',
  'error.session_not_found': '课堂不存在。',
  'error.enrollment_not_found': '该学生未选这门课。',
  'error.course_not_active': '课程尚未开课。',
  'error.session_already_live': '这门课已经在上课了。',
  'error.session_ended': '本节课已结束。',
  'error.quiz_open': '还有一个测验没有结束。',
  'error.quiz_closed': '测验已结束。',
  'error.quiz_deadline_passed': '测验时间已到。',
  'error.deadline_passed': '测验时间已到。',
  'error.already_answered': '你已经作答过了。',
  'error.muted': '老师已将你禁言。',
  'error.rate_limited': '消息发送过快。',
  'error.not_in_room': '你不在课堂中。',
  'error.invalid_field': '请检查输入的内容。',
  'error.missing_field': '请填写所有字段。',
  'error.write_queue_full': '服务器繁忙，请稍后再试。',
  'error.too_many_live_sockets': '你打开的课堂窗口太多了。',
  'error.network': '无法连接服务器。',
};

// Why the policy refused a join, as the server says it (policies/education.rego).
const zhReasons = {
  'the course is full': '课程人数已满',
  'the course is not active': '课程尚未开课',
  'only students can join a course': '只有学生可以加入课程',
};

export const DICTIONARIES = { en, 'zh-CN': zh };

function fromBrowser() {
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of langs) {
    const low = String(l).toLowerCase();
    if (low.startsWith('zh')) return 'zh-CN';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = (() => {
  const saved = localStorage.getItem(LANG_KEY);
  return saved && DICTIONARIES[saved] ? saved : fromBrowser();
})();

export function lang() {
  return current;
}

// The string for `key` in the current language with {name} placeholders filled from `vars`.
export function t(key, vars = {}) {
  const s = DICTIONARIES[current][key] ?? en[key];
  if (s === undefined) {
    console.warn(`i18n: no string for ${key}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function has(key) {
  return key in DICTIONARIES[current] || key in en;
}

// A message for an error from the API or the live room: its code's string when there is
// one, else the server's message. `err` has .code and .message (ApiError, live error reply).
export function errorMessage(err) {
  if (!err) return '';
  if (err instanceof TypeError) return t('error.network');  // fetch could not connect
  const key = `error.${err.code}`;
  if (err.code && has(key)) {
    let message = err.message || '';
    if (current === 'zh-CN' && zhReasons[message]) message = zhReasons[message];
    return t(key, { message });
  }
  return err.message || String(err.code || err);
}

// The message for a live-socket close code (its reason from the server otherwise).
export function closeMessage(code, reason) {
  // 4029 is also the refusal of one live socket too many for a user (too_many_live_sockets,
  // whose reason is "you already have N live connections open; ...").
  if (code === 4029 && /live connections/.test(reason || '')) return t('close.4029.sockets');
  const key = `close.${code}`;
  if (has(key)) return t(key);
  return reason || t('closed.code', { code });
}

// Times and durations as people of the language write them.
export function time(ts) {
  return new Date(ts).toLocaleTimeString(current, { hour: '2-digit', minute: '2-digit' });
}
export function dateTime(ts) {
  return new Date(ts).toLocaleString(current, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return t('duration.hms', { h, m });
  if (m) return t('duration.ms', { m, s: s % 60 });
  return t('duration.s', { s });
}

// Fills the page's static strings from the dictionary.
export function applyDom(root = document) {
  document.documentElement.lang = current;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const [attr, data] of [['placeholder', 'i18nPlaceholder'], ['title', 'i18nTitle'], ['aria-label', 'i18nAriaLabel']]) {
    for (const node of root.querySelectorAll(`[data-i18n-${attr}]`)) node.setAttribute(attr, t(node.dataset[data]));
  }
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
}

// Switches the language, remembers it, refills the static strings and tells the page (an
// 'edgeclass-language' event on window, detail = the language) to redraw the rest.
export function setLang(l) {
  if (!DICTIONARIES[l]) return;
  current = l;
  localStorage.setItem(LANG_KEY, l);
  applyDom();
  window.dispatchEvent(new CustomEvent('edgeclass-language', { detail: l }));
}

// A <select> switching the language, for the top bar.
export function languageSwitch() {
  const sel = document.createElement('select');
  sel.id = 'lang';
  sel.className = 'lang';
  sel.setAttribute('aria-label', t('lang.label'));
  sel.dataset.i18nAriaLabel = 'lang.label';
  for (const [code, name] of LANGUAGES) {
    const o = document.createElement('option');
    o.value = code;
    o.lang = code;
    o.textContent = name;
    if (code === current) o.selected = true;
    sel.append(o);
  }
  sel.addEventListener('change', () => setLang(sel.value));
  return sel;
}

// Call once per page: fills the strings and puts the switch into `bar` (the top bar).
export function initI18n(bar) {
  applyDom();
  if (bar && !document.getElementById('lang')) bar.append(languageSwitch());
}
