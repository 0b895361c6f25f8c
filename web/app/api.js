// The REST API (docs/rest.md): every call sends the token and unwraps the envelope
// `{ success, data }`; a refusal becomes an ApiError with the server's message and code.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code;
  }
}

async function call(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => null);
  if (!response.ok || !json?.success) throw new ApiError(response.status, json);
  return json.data;
}

// Built-in accounts: a token for a username and password (registering first when asked).
export async function signIn(username, password, register) {
  if (register) await call("/api/auth/register", { method: "POST", body: { username, password } });
  const { token } = await call("/api/auth/login", { method: "POST", body: { username, password } });
  return token;
}

// The endpoints the app uses, for one token.
export function api(token) {
  const get = (path) => call(path, { token });
  const post = (path, body) => call(path, { method: "POST", body, token });
  const query = (params) => new URLSearchParams(params).toString();
  return {
    me: () => get("/api/users/me"),
    users: (search) => get(`/api/users?${query({ search, limit: 20 })}`),
    conversations: () => get(`/api/chat/conversations?${query({ limit: 100 })}`),
    conversation: (id) => get(`/api/chat/conversations/${id}`),
    unread: () => get("/api/chat/unread"),
    // Newest first; `before` and `after` are seq cursors.
    messages: (id, cursor) => get(`/api/chat/conversations/${id}/messages?${query({ limit: 30, ...cursor })}`),
    createGroup: (title, memberIds) =>
      post("/api/chat/groups", { title, memberIds, clientRequestId: randomId() }),
    addMembers: (id, userIds) => post(`/api/chat/conversations/${id}/members`, { userIds }),
  };
}

// An id for a retry-safe send (`clientMessageId`); crypto.randomUUID needs a secure context,
// getRandomValues does not.
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
