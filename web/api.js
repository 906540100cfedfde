// REST client for /api/v1 (docs/api.md). Every call sends the bearer token and either
// resolves with the parsed JSON body or throws an ApiError carrying the server's error code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const TOKEN_KEY = 'edgeclass.token';

// The token from the page's #token=... fragment (links printed by `make run`), which is then
// remembered and removed from the address bar, or else the one remembered earlier.
export function savedToken() {
  const m = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (m) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function saveToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

// The claims of a JWT (not verified here: the server does that), or null when malformed.
export function decodeToken(token) {
  const parts = (token || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(escape(atob(b64 + '==='.slice((b64.length + 3) % 4))));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export class Api {
  constructor(token, base = '') {
    this.token = token;
    this.base = base;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : { code: 'http_' + res.status, message: text };
      throw new ApiError(res.status, err.code, err.message || res.statusText);
    }
    return data;
  }

  listCourses(teacherId) {
    const q = teacherId ? `?teacher_id=${encodeURIComponent(teacherId)}` : '';
    return this.request('GET', `/api/v1/courses${q}`).then((r) => r.items);
  }
  createCourse(title, capacity) {
    const body = { title };
    if (capacity) body.capacity = capacity;
    return this.request('POST', '/api/v1/courses', body);
  }
  activateCourse(id) {
    return this.request('PATCH', `/api/v1/courses/${id}`, { status: 'active' });
  }
  joinCourse(id) {
    return this.request('POST', `/api/v1/courses/${id}/join`);
  }
  joinByCode(code) {
    return this.request('POST', '/api/v1/join', { code });
  }
  joinCode(courseId) {
    return this.request('GET', `/api/v1/courses/${courseId}/join_code`).then((r) => r.join_code);
  }
  rotateJoinCode(courseId) {
    return this.request('POST', `/api/v1/courses/${courseId}/join_code/rotate`).then((r) => r.join_code);
  }
  students(courseId) {
    return this.request('GET', `/api/v1/courses/${courseId}/students?limit=1000`).then((r) => r.items);
  }
  removeStudent(courseId, studentId) {
    return this.request('DELETE', `/api/v1/courses/${courseId}/students/${encodeURIComponent(studentId)}`);
  }
  sessions(courseId) {
    return this.request('GET', `/api/v1/courses/${courseId}/sessions`).then((r) => r.items);
  }
  attendance(sessionId) {
    return this.request('GET', `/api/v1/sessions/${sessionId}/attendance`);
  }
  // A file the API serves (the gradebook), as a Blob; errors as for request().
  async download(path) {
    const res = await fetch(this.base + path, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) {
      let err = { code: 'http_' + res.status, message: res.statusText };
      try {
        err = (await res.json()).error || err;
      } catch {
        // not JSON: keep the status
      }
      throw new ApiError(res.status, err.code, err.message);
    }
    return res.blob();
  }
  liveSessions(courseId) {
    return this.request('GET', `/api/v1/courses/${courseId}/sessions?status=live`).then((r) => r.items);
  }
  goLive(courseId, title) {
    return this.request('POST', `/api/v1/courses/${courseId}/sessions`, title ? { title } : {});
  }
  endSession(id) {
    return this.request('POST', `/api/v1/sessions/${id}/end`);
  }
  createQuiz(sessionId, title, questions) {
    return this.request('POST', `/api/v1/sessions/${sessionId}/quizzes`, { title, questions });
  }
  publishQuiz(id, timeLimitS) {
    return this.request('POST', `/api/v1/quizzes/${id}/publish`, { time_limit_s: timeLimitS });
  }
  closeQuiz(id) {
    return this.request('POST', `/api/v1/quizzes/${id}/close`);
  }
  answer(id, answers) {
    return this.request('POST', `/api/v1/quizzes/${id}/answers`, { answers });
  }
  results(id) {
    return this.request('GET', `/api/v1/quizzes/${id}/results`);
  }
}
