// The open conversation: its history (by seq, each message once, older pages loaded by the
// `before` cursor as the reader scrolls up), sends that show at once and settle when
// acknowledged, who is typing, and how far the other members have read.

import { $, h, clockTime, names } from "./view.js";
import { randomId } from "./api.js";

const PAGE = 30;
const TYPING_SENT_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 6000;

export class ConversationView {
  // `app` gives the socket, the API, the signed-in user and the callbacks to the list;
  // `conversation` is a list record, or `{ draftWith: user }` before a first message.
  constructor(app, conversation) {
    this.app = app;
    this.conversation = conversation;
    this.id = conversation.id ?? null;
    this.members = new Map(); // userId -> { username, lastReadSeq }
    this.rows = new Map(); // seq -> { message, element }
    this.pending = new Map(); // clientMessageId -> element
    this.typers = new Map(); // userId -> timer
    this.oldestSeq = null;
    this.hasOlder = true;
    this.loadingOlder = false;
    this.typingSentAt = 0;
    this.idleTimer = null;
    this.list = $("#messages");
    this.list.replaceChildren();
    this.list.onscroll = () => this.maybeLoadOlder();
    $("#typing").textContent = "";
    $("#composer").hidden = false;
    $("#draft").value = "";
    $("#draft").focus();
  }

  get isGroup() {
    return this.conversation.kind === "group";
  }

  // Joins the room first, so that nothing sent while the first page loads is missed (a
  // message both live and on the page is kept once, by seq).
  async open() {
    this.renderHeader();
    if (this.id == null) {
      this.list.append(h("p.empty", {}, `Say hello to ${this.conversation.draftWith.username}.`));
      return;
    }
    await this.app.join(this.id);
    const [detail, page] = await Promise.all([
      this.app.api.conversation(this.id),
      this.app.api.messages(this.id, {}),
    ]);
    this.app.upsert(detail);
    this.conversation = this.app.conversations.get(this.id);
    this.setMembers(detail.members);
    this.addPage(page.messages);
    this.scrollToEnd();
    this.markRead();
  }

  setMembers(members) {
    this.members = new Map(members.map((m) => [m.id, { username: m.username, lastReadSeq: m.lastReadSeq }]));
    this.renderHeader();
    this.refreshReceipts();
  }

  renderHeader() {
    $("#title").textContent = this.app.titleOf(this.conversation);
    const others = [...this.members.values()].map((m) => m.username);
    $("#members").textContent = this.isGroup ? `${others.length} members: ${others.join(", ")}` : "";
    $("#add-member").hidden = !this.isGroup;
  }

  // A page of history (newest first, as the API lists it).
  addPage(messages) {
    for (const message of messages) this.add(message, { quiet: true });
    if (messages.length < PAGE) this.hasOlder = false;
  }

  // Scrolling near the top loads the page before the oldest message shown, keeping what the
  // reader sees in place.
  async maybeLoadOlder() {
    if (this.list.scrollTop > 80 || !this.hasOlder || this.loadingOlder || this.oldestSeq == null) return;
    this.loadingOlder = true;
    const before = this.list.scrollHeight;
    try {
      const page = await this.app.api.messages(this.id, { before: this.oldestSeq });
      this.addPage(page.messages);
      this.list.scrollTop += this.list.scrollHeight - before;
    } finally {
      this.loadingOlder = false;
    }
  }

  // A message of this conversation, from history, a live event or an ack: placed by seq,
  // shown once (a later copy replaces the earlier, as an edit does).
  add(message, { quiet = false } = {}) {
    const sending = message.clientMessageId && this.pending.get(message.clientMessageId);
    if (sending) {
      sending.remove();
      this.pending.delete(message.clientMessageId);
    }
    const atEnd = this.isAtEnd();
    const element = this.render(message);
    const existing = this.rows.get(message.seq);
    if (existing) {
      existing.element.replaceWith(element);
    } else {
      const after = [...this.rows.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
      const next = after != null ? this.rows.get(after).element : this.list.querySelector(".pending");
      this.list.insertBefore(element, next ?? null);
    }
    this.rows.set(message.seq, { message, element });
    if (this.oldestSeq == null || message.seq < this.oldestSeq) this.oldestSeq = message.seq;
    this.list.querySelector(".empty")?.remove();
    if (!quiet && (atEnd || message.sender_id === this.app.me.id)) this.scrollToEnd();
  }

  remove(seq) {
    this.rows.get(seq)?.element.remove();
    this.rows.delete(seq);
  }

  get lastSeq() {
    return Math.max(0, ...this.rows.keys());
  }

  render(message) {
    const mine = message.sender_id === this.app.me.id;
    const meta = h("span.meta", {}, clockTime(message.createdAt), message.editedAt ? " · edited" : null);
    if (mine) meta.append(h("span.receipt", {}, this.receipt(message.seq)));
    return h(
      `div.message.${mine ? "mine" : "theirs"}`,
      { dataset: { seq: message.seq } },
      h(
        "div.bubble",
        {},
        this.isGroup && !mine ? h("span.author", {}, message.sender?.username ?? "") : null,
        h("p.text", {}, message.content),
      ),
      meta,
    );
  }

  // " · Read" when the other side of a direct conversation has read up to `seq`; in a group,
  // " · Seen by n" for the members who have.
  receipt(seq) {
    const readers = [...this.members.entries()]
      .filter(([id, m]) => id !== this.app.me.id && m.lastReadSeq >= seq)
      .map(([, m]) => m.username);
    if (!readers.length) return " · Sent";
    return this.isGroup ? ` · Seen by ${names(readers)}` : " · Read";
  }

  refreshReceipts() {
    for (const [seq, row] of this.rows) {
      const receipt = row.element.querySelector(".receipt");
      if (receipt) receipt.textContent = this.receipt(seq);
    }
  }

  // `messages_read`: a member's watermark moved.
  read({ userId, lastReadSeq }) {
    const member = this.members.get(userId);
    if (member) member.lastReadSeq = Math.max(member.lastReadSeq, lastReadSeq);
    this.refreshReceipts();
  }

  // Sends over the socket with a clientMessageId, so that a send buffered while offline, or
  // retried, is stored once. The message shows at once as "sending" until its ack.
  send(content) {
    const clientMessageId = randomId();
    const element = h("div.message.mine.pending", {}, h("div.bubble", {}, h("p.text", {}, content)), h("span.meta", {}, "Sending…"));
    this.list.append(element);
    this.list.querySelector(".empty")?.remove();
    this.pending.set(clientMessageId, element);
    this.scrollToEnd();
    this.stopTyping();
    const payload = this.id != null
      ? { conversationId: this.id, content, clientMessageId }
      : { receiverId: this.conversation.draftWith.id, content, clientMessageId };
    this.app.socket.emit("send_message", payload, (ack) => {
      if (!ack?.success) {
        element.classList.add("failed");
        element.querySelector(".meta").textContent = `Not sent: ${ack?.message ?? "no answer"}`;
        return;
      }
      this.app.sent(ack.data, this);
    });
  }

  // Tells the room at most every two seconds while the user types, and that they stopped
  // after three idle seconds (or on send).
  typed() {
    if (this.id == null) return;
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_SENT_EVERY_MS) {
      this.app.socket.emit("typing", { conversationId: this.id });
      this.typingSentAt = now;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    if (this.typingSentAt && this.id != null) this.app.socket.emit("stop_typing", { conversationId: this.id });
    this.typingSentAt = 0;
  }

  // `user_typing` / `user_stopped_typing`; a typer not heard of for six seconds is dropped.
  typing(userId, on) {
    clearTimeout(this.typers.get(userId));
    this.typers.delete(userId);
    if (on) this.typers.set(userId, setTimeout(() => this.typing(userId, false), TYPING_SHOWN_MS));
    const who = [...this.typers.keys()].map((id) => this.members.get(id)?.username ?? "someone");
    $("#typing").textContent = who.length ? `${names(who)} ${who.length > 1 ? "are" : "is"} typing…` : "";
  }

  // Marks the conversation read when the reader can see it and a message from someone else
  // is past the user's own read watermark.
  markRead() {
    if (this.id == null || document.visibilityState !== "visible") return;
    const me = this.members.get(this.app.me.id);
    const theirs = [...this.rows.values()]
      .filter((r) => r.message.sender_id !== this.app.me.id)
      .map((r) => r.message.seq);
    const newest = Math.max(0, ...theirs);
    if (!me || newest <= me.lastReadSeq) return;
    me.lastReadSeq = newest;
    this.app.socket.emit("mark_as_read", { conversationId: this.id }, (ack) => {
      if (ack?.success) this.app.markedRead(this.id);
    });
  }

  isAtEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 60;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  close() {
    this.stopTyping();
    for (const timer of this.typers.values()) clearTimeout(timer);
  }
}
