// Shared helpers for the socket.io-client tests: connect, wait for events with a deadline,
// call the REST API. The Rust driver (tests/socketio_clients.rs) passes SERVER_URL and TOKENS.
import { afterEach } from "node:test";
import { io } from "socket.io-client";

export const SERVER_URL = process.env.SERVER_URL;
export const TOKENS = JSON.parse(process.env.TOKENS ?? "{}");

/** The two ways a client connects: the default (polling, then upgrade) and WebSocket only. */
export const TRANSPORTS = [
  { name: "polling then websocket", transports: ["polling", "websocket"] },
  { name: "websocket only", transports: ["websocket"] },
];

/** A connected client for user `id`; rejects on connect_error. */
export function connect(id, transports, extra = {}) {
  const socket = io(SERVER_URL, {
    auth: { token: TOKENS[id] },
    transports,
    reconnection: false,
    forceNew: true,
    ...extra,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

/**
 * `client(id, transports)`: like `connect`, and every socket it opened is closed after each test
 * of the file that calls this, so that nothing one test leaves behind changes the next.
 */
export function clientsClosedAfterEach() {
  const open = [];
  afterEach(() => open.splice(0).forEach((socket) => socket.close()));
  return async (id, transports) => {
    const socket = await connect(id, transports);
    open.push(socket);
    return socket;
  };
}

/** The next `event` on `socket`, or a rejection after `ms`. */
export function next(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Collects `count` `event`s in arrival order. */
export function collect(socket, event, count, ms = 20000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(
      () => reject(new Error(`${got.length} of ${count} ${event} within ${ms} ms`)),
      ms,
    );
    const onEvent = (payload) => {
      got.push(payload);
      if (got.length === count) {
        clearTimeout(timer);
        socket.off(event, onEvent);
        resolve(got);
      }
    };
    socket.on(event, onEvent);
  });
}

/** Emits with an acknowledgement and resolves with the ack. */
export function ask(socket, event, payload, ms = 5000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/** A REST call as user `id`. */
export async function rest(id, method, path, body) {
  const response = await fetch(`${SERVER_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKENS[id]}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * A conversation's messages with a `seq` above `after`, oldest first, as user `id` reads them:
 * the history paged with the `after` cursor until a short page.
 */
export async function historyAfter(id, conversation, after = 0, limit = 100) {
  const messages = [];
  for (;;) {
    const path = `/api/chat/conversations/${conversation}/messages?after=${after}&limit=${limit}`;
    const { status, body } = await rest(id, "GET", path);
    if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
    const page = [...body.data.messages].reverse();
    messages.push(...page);
    if (page.length < limit) return messages;
    after = page[page.length - 1].seq;
  }
}
