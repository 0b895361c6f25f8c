// The web app: signing in, the conversation list with unread badges, the socket and what
// arrives on it. The open conversation is conversation.js, the people picker (new chats,
// groups, members) picker.js. Only documented endpoints and events are used (docs/rest.md,
// docs/realtime.md).

import { $, h, shortTime } from "./view.js";
import { ApiError, api as endpoints, signIn } from "./api.js";
import { ConversationView } from "./conversation.js";
import { setUpPicker } from "./picker.js";

const TOKEN_KEY = "chat.token";

const app = {
  api: null,
  me: null,
  socket: null,
  conversations: new Map(), // id -> list record, with `unread`
  joined: new Set(), // rooms this socket is in
  view: null, // the open ConversationView

  titleOf(c) {
    if (c.draftWith) return c.draftWith.username;
    if (c.kind === "group") return c.title;
    const other = [c.participant1, c.participant2].find((p) => p && p.id !== this.me.id);
    return other?.username ?? c.participant1?.username ?? "Notes";
  },

  // Joins a conversation's room once per connection.
  async join(id) {
    if (this.joined.has(id)) return;
    const ack = await this.socket.emitWithAck("join_conversation", { conversationId: id });
    if (ack?.success) this.joined.add(id);
  },

  // A send's ack: a first message to someone turns the draft into their conversation.
  async sent(message, view) {
    if (view.id == null) {
      view.id = message.conversation_id;
      view.conversation = { id: view.id };
      await view.open();
    }
    incoming(message);
  },

  markedRead(id) {
    const c = this.conversations.get(id);
    if (c) c.unread = 0;
    renderList();
  },

  // Adds or refreshes a list record (a detail record or an event's conversation); the unread
  // count and a newer last message the list already has are kept.
  upsert(record) {
    const known = this.conversations.get(record.id);
    const merged = { ...known, ...record, unread: known?.unread ?? record.unreadCount ?? 0 };
    if ((known?.last_seq ?? 0) > (record.last_seq ?? 0)) {
      const { last_seq, last_message, last_message_at } = known;
      Object.assign(merged, { last_seq, last_message, last_message_at });
    }
    this.conversations.set(record.id, merged);
    renderList();
  },
};

// --- signing in ---

function showSignIn(message = "") {
  $("#chat").hidden = true;
  $("#sign-in").hidden = false;
  $("#account-error").textContent = message;
}

$("#account-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const register = event.submitter?.value === "register";
  $("#account-error").textContent = "";
  try {
    const token = await signIn(form.username.value.trim(), form.password.value, register);
    await start(token);
  } catch (error) {
    $("#account-error").textContent = error.message;
  }
});

$("#token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await start(event.target.token.value.trim());
  } catch (error) {
    $("#account-error").textContent = error.message;
  }
});

$("#sign-out").addEventListener("click", () => signOut());

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  app.socket?.disconnect();
  if (message) sessionStorage.setItem("chat.notice", message);
  location.reload();
}

async function start(token) {
  app.api = endpoints(token);
  app.me = await app.api.me();
  localStorage.setItem(TOKEN_KEY, token);
  $("#me-name").textContent = app.me.username;
  $("#sign-in").hidden = true;
  $("#chat").hidden = false;
  connect(token);
}

// --- the socket ---

function connect(token) {
  const socket = io({ auth: { token } });
  app.socket = socket;

  socket.on("connect", async () => {
    $("#connection").hidden = true;
    if (socket.recovered) return; // the server replayed everything missed, in order
    app.joined.clear();
    socket.emit("join_personal_room");
    await refreshList();
    const view = app.view;
    if (view?.id != null) await catchUp(view);
  });
  socket.on("disconnect", (reason) => {
    if (reason !== "io client disconnect") $("#connection").hidden = false;
  });
  socket.on("connect_error", (error) => {
    if (error.message === "Authentication error") signOut("Your session has ended: sign in again.");
  });
  socket.on("error", (error) => {
    if (error?.code === "token_expired") signOut("Your session has ended: sign in again.");
  });

  socket.on("new_message", (message) => incoming(message));
  socket.on("message_notification", ({ message }) => incoming(message));
  socket.on("message_edited", (message) => inOpen(message.conversation_id, (v) => v.add(message, { quiet: true })));
  socket.on("message_deleted", ({ conversationId, seq }) => inOpen(conversationId, (v) => v.remove(seq)));
  socket.on("messages_read", (read) => {
    if (read.userId === app.me.id) app.markedRead(read.conversationId);
    inOpen(read.conversationId, (v) => v.read(read));
  });
  socket.on("user_typing", ({ userId, conversationId }) => inOpen(conversationId, (v) => v.typing(userId, true)));
  socket.on("user_stopped_typing", ({ userId, conversationId }) =>
    inOpen(conversationId, (v) => v.typing(userId, false)),
  );
  socket.on("conversation_created", ({ conversation }) => app.upsert(conversation));
  socket.on("conversation_updated", ({ conversation }) => {
    app.upsert(conversation);
    inOpen(conversation.id, (v) => {
      v.conversation = app.conversations.get(conversation.id);
      v.renderHeader();
    });
  });
  socket.on("member_added", (event) => membersChanged(event, false));
  socket.on("member_removed", (event) => membersChanged(event, true));
  socket.on("member_role_changed", (event) => membersChanged(event, false));
}

// A socket that could not recover is in no room: join the open conversation again from the
// last seq shown (the server sends what came after it first), and read the rest over REST
// when more was waiting than it replays.
async function catchUp(view) {
  const ack = await app.socket.emitWithAck("join_conversation", { conversationId: view.id, lastSeq: view.lastSeq });
  if (!ack?.success) return;
  app.joined.add(view.id);
  let after = ack.data.lastSeq;
  for (let complete = ack.data.complete; !complete; ) {
    const page = await app.api.messages(view.id, { after });
    page.messages.forEach((m) => view.add(m));
    after = Math.max(after, ...page.messages.map((m) => m.seq));
    complete = page.messages.length < 30;
  }
  view.markRead();
}

function inOpen(conversationId, action) {
  if (app.view?.id === conversationId) action(app.view);
}

// A conversation's list record, read once from the server when the list does not have it
// yet (a first message or group from someone); concurrent callers share the one request.
const loading = new Map();
async function known(id) {
  if (!app.conversations.has(id)) {
    if (!loading.has(id)) {
      loading.set(id, app.api.conversation(id).then((detail) => app.upsert(detail)).finally(() => loading.delete(id)));
    }
    await loading.get(id);
  }
  return app.conversations.get(id);
}

// A new message, live or replayed: into the open conversation, or counted as unread. A seq
// the list has already seen (or counted in a record it read) is not counted again.
async function incoming(message) {
  const id = message.conversation_id;
  const c = await known(id);
  const fresh = message.seq > (c.last_seq ?? 0);
  if (fresh) {
    Object.assign(c, { last_seq: message.seq, last_message: message.content, last_message_at: message.createdAt });
  }
  const open = app.view?.id === id;
  if (open) {
    app.view.add(message);
    if (message.sender_id !== app.me.id) app.view.markRead();
  }
  const seen = open && document.visibilityState === "visible";
  if (fresh && !seen && message.sender_id !== app.me.id) {
    c.unread = (c.unread ?? 0) + 1;
    settleUnread();
  }
  renderList();
}

// The badges count up as messages arrive; once a burst is over, they are set to the server's
// counts, which a count made while a conversation's record was read may have missed or
// counted twice.
let unreadTimer = null;
function settleUnread() {
  clearTimeout(unreadTimer);
  unreadTimer = setTimeout(async () => {
    const counts = new Map((await app.api.unread()).map((u) => [u.conversation_id, u.unread_count]));
    for (const c of app.conversations.values()) {
      const seen = app.view?.id === c.id && document.visibilityState === "visible";
      if (!seen) c.unread = counts.get(c.id) ?? 0;
    }
    renderList();
  }, 300);
}

async function membersChanged({ conversationId, member }, removed) {
  if (member.id === app.me.id && removed) {
    app.conversations.delete(conversationId);
    if (app.view?.id === conversationId) closeView();
    renderList();
    return;
  }
  const detail = await app.api.conversation(conversationId);
  app.upsert(detail);
  inOpen(conversationId, (v) => v.setMembers(detail.members));
}

// --- the conversation list ---

async function refreshList() {
  const [{ conversations }, unread] = await Promise.all([app.api.conversations(), app.api.unread()]);
  const counts = new Map(unread.map((u) => [u.conversation_id, u.unread_count]));
  app.conversations = new Map(conversations.map((c) => [c.id, { ...c, unread: counts.get(c.id) ?? 0 }]));
  renderList();
}

function renderList() {
  const byActivity = [...app.conversations.values()].sort((a, b) =>
    (b.last_message_at ?? b.createdAt).localeCompare(a.last_message_at ?? a.createdAt),
  );
  const items = byActivity.map((c) => {
    const title = app.titleOf(c);
    return h(
      "li",
      {},
      h(
        `button.conversation-item${app.view?.id === c.id ? ".active" : ""}`,
        { type: "button", dataset: { id: c.id }, onclick: () => openConversation(c) },
        h(`span.avatar${c.kind === "group" ? ".group" : ""}`, {}, title.slice(0, 1).toUpperCase()),
        h("span.summary", {}, h("span.name", {}, title), h("span.preview", {}, c.last_message ?? "")),
        h(
          "span.side",
          {},
          h("time", {}, shortTime(c.last_message_at)),
          c.unread ? h("span.badge", { title: `${c.unread} unread` }, String(c.unread)) : null,
        ),
      ),
    );
  });
  if (!items.length) items.push(h("li.empty", {}, "No conversations yet."));
  $("#conversations").replaceChildren(...items);
}

async function openConversation(conversation) {
  closeView();
  app.view = new ConversationView(app, conversation);
  renderList();
  await app.view.open();
}

function closeView() {
  app.view?.close();
  app.view = null;
  $("#composer").hidden = true;
  $("#title").textContent = "";
  $("#members").textContent = "";
  $("#add-member").hidden = true;
  $("#messages").replaceChildren(h("p.empty", {}, "Pick a conversation or start a new one."));
}

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const content = $("#draft").value.trim();
  if (!content || !app.view) return;
  app.view.send(content);
  $("#draft").value = "";
});
$("#draft").addEventListener("input", () => app.view?.typed());
document.addEventListener("visibilitychange", () => app.view?.markRead());

setUpPicker({ app, openConversation, inOpen });

// --- start ---

const saved = localStorage.getItem(TOKEN_KEY);
const notice = sessionStorage.getItem("chat.notice") ?? "";
sessionStorage.removeItem("chat.notice");
if (saved) {
  start(saved).catch((error) => {
    localStorage.removeItem(TOKEN_KEY);
    showSignIn(error instanceof ApiError && error.status === 401 ? "Your session has ended: sign in again." : error.message);
  });
} else {
  showSignIn(notice);
}
