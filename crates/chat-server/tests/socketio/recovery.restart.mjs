// Connection state recovery with the real socket.io-client and no recovery option: a receiver
// whose connection is cut, blackholed, offline for a while, or whose server is stopped with
// SIGTERM or killed with SIGKILL and started again on the same port and database, reconnects
// with `socket.recovered === true` and has received the conversation's stored history exactly:
// every message once, in seq order.
//
// This file starts the server binary itself (SERVER_BIN, with DATABASE_URL and JWT_SECRET from
// the driver, socketio_clients.rs) and puts a TCP proxy in front of it, so that it can cut the
// network and restart the server under a client. Its name (not *.test.mjs) keeps it out of the
// default `node --test` run.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import readline from "node:readline";
import { io } from "socket.io-client";
import { TOKENS, TRANSPORTS } from "./helpers.mjs";

/** The server binary, started on `port` (0: any) over the driver's database. */
async function startServer(port = 0) {
  const child = spawn(process.env.SERVER_BIN, [], {
    env: {
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
      PORT: String(port),
      CHAT_HOST: "127.0.0.1",
      CHAT_WORKERS: "2",
      LOG_FORMAT: "json",
      CHAT_SEND_RATE_PER_SEC: "10000",
      CHAT_SEND_BURST: "10000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const listening = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening`)));
    lines.on("line", (line) => {
      try {
        const event = JSON.parse(line);
        if (event.message === "chat-server listening") resolve(event.port);
      } catch {
        // not a log line of ours
      }
    });
  });
  return { child, port: listening };
}

/** Stops the server with `signal` and waits until it is gone. */
function stopServer(server, signal) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    server.child.once("exit", () => resolve());
    server.child.kill(signal);
  });
}

/**
 * A TCP proxy in front of the server, for cutting the network under a client: `cut()` closes
 * every connection on both sides; `blackhole()` closes the client's side only (the server does
 * not notice until its ping timeout); `offline(ms)` cuts and refuses new connections for `ms`.
 */
async function startProxy(upstreamPort) {
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const upstream = net.connect(upstreamPort, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", forget);
    upstream.on("error", forget);
    client.on("close", () => {
      if (!pair.blackholed) forget();
    });
    upstream.on("close", forget);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    blackhole() {
      for (const pair of pairs) {
        pair.blackholed = true;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.destroy();
      }
      pairs.clear();
    },
    async offline(ms) {
      refusing = true;
      this.cut();
      await new Promise((resolve) => setTimeout(resolve, ms));
      refusing = false;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** A REST call to `base` as user `id`. */
async function rest(base, id, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKENS[id]}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Sends `count` messages from `from` to `to`, numbered from `first`, each retried with its
 * client message id until the server answers (a restart in between is retried through: the
 * retry of a stored send is answered with it, never stored twice).
 */
async function sendAll(server, from, to, first, count, onSent = () => {}) {
  for (let n = first; n < first + count; n++) {
    for (;;) {
      try {
        const sent = await rest(server.base(), from, "POST", "/api/chat/send", {
          receiverId: to,
          content: `message ${n}`,
          clientMessageId: `m-${from}-${n}`,
        });
        if (sent.status === 200 || sent.status === 201) break;
        if (sent.status !== 503) throw new Error(`send ${n}: ${sent.status} ${JSON.stringify(sent.body)}`);
      } catch (error) {
        if (!String(error?.cause?.code ?? error).match(/ECONNREFUSED|ECONNRESET|fetch failed|UND_ERR|other side closed/)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    onSent(n);
  }
}

/** The stored history of a conversation, oldest first. */
async function history(server, id, conversation) {
  const messages = [];
  let afterSeq = 0;
  for (;;) {
    const path = `/api/chat/conversations/${conversation}/messages?after=${afterSeq}&limit=100`;
    const { status, body } = await rest(server.base(), id, "GET", path);
    assert.equal(status, 200, JSON.stringify(body));
    const page = [...body.data.messages].reverse();
    messages.push(...page);
    if (page.length < 100) return messages;
    afterSeq = page[page.length - 1].seq;
  }
}

/** Resolves when `check()` holds, checking at every `event` on `socket`; rejects after `ms`. */
function until(socket, event, check, ms, what) {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`not within ${ms} ms: ${what()}`));
    }, ms);
    const listener = () => {
      if (check()) {
        clearTimeout(timer);
        socket.off(event, listener);
        resolve();
      }
    };
    socket.on(event, listener);
  });
}

/**
 * A receiver as an app runs it: connected with nothing but its token, joined to the
 * conversation, recording every `new_message` and every reconnection's `recovered`.
 */
async function receiver(url, id, conversation, transports) {
  const socket = io(url, { auth: { token: TOKENS[id] }, forceNew: true, transports });
  const state = { socket, received: [], reconnections: [] };
  socket.on("new_message", (message) => state.received.push(message));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  socket.on("connect", () => state.reconnections.push(socket.recovered));
  const joined = await socket.timeout(5000).emitWithAck("join_conversation", { conversationId: conversation });
  assert.equal(joined.success, true, JSON.stringify(joined));
  return state;
}

/**
 * Asserts that `received` is exactly the stored history after the conversation's first message
 * (sent before the receiver joined), once each, in order.
 */
async function assertExactlyTheHistory(server, state, id, conversation) {
  const stored = (await history(server, id, conversation)).slice(1);
  await until(
    state.socket,
    "new_message",
    () => state.received.length >= stored.length,
    20000,
    () => `${state.received.length} of ${stored.length} received`,
  );
  const got = state.received.map((m) => `${m.seq}:${m.id}`);
  const want = stored.map((m) => `${m.seq}:${m.id}`);
  assert.deepEqual(got, want, "received exactly the stored history, in order, once each");
}

const SERVER = { current: null, proxy: null, base: () => SERVER.proxy.url };

/**
 * Two fresh users with a conversation (its first message sent before the receiver joins), and
 * the receiver connected through the proxy over `transports`, in the conversation's room.
 */
async function opened(transports) {
  const [alice, bob] = await pair();
  const first = await rest(SERVER.base(), alice, "POST", "/api/chat/send", { receiverId: bob, content: "hello" });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const conversation = first.body.data.conversation_id;
  const state = await receiver(SERVER.proxy.url, bob, conversation, transports);
  return { alice, bob, conversation, state };
}
let nextUser = 1;

/** Two fresh users who exist on the server (a first request with a token provisions its user). */
async function pair() {
  const users = [nextUser++, nextUser++];
  for (const id of users) {
    const me = await rest(SERVER.base(), id, "GET", "/api/users/me");
    assert.equal(me.status, 200, JSON.stringify(me.body));
  }
  return users;
}

after(async () => {
  await SERVER.proxy?.close();
  if (SERVER.current) await stopServer(SERVER.current, "SIGTERM");
});

describe("connection state recovery, backed by PostgreSQL", () => {
  test("the server starts behind a proxy", async () => {
    SERVER.current = await startServer();
    SERVER.proxy = await startProxy(SERVER.current.port);
  });

  for (const { name, transports } of TRANSPORTS) {
    test(`over ${name}: a connection cut mid-burst recovers with every message once, in order`, async () => {
      const { alice, bob, conversation, state } = await opened(transports);
      let cut = false;
      await sendAll(SERVER, alice, bob, 1, 300, () => {
        if (!cut && state.received.length >= 60) {
          cut = true;
          SERVER.proxy.cut();
        }
      });
      assert.ok(cut, "the connection was cut during the burst");
      await until(state.socket, "connect", () => state.reconnections.length >= 1, 15000, () => "no reconnection");
      assert.deepEqual(state.reconnections, [true], "socket.recovered after the cut");
      await assertExactlyTheHistory(SERVER, state, bob, conversation);
      state.socket.close();
    });
  }

  test("a client that had received nothing yet (a pid, no offset) recovers", async () => {
    const { alice, bob, conversation, state } = await opened(["websocket"]);
    assert.equal(state.received.length, 0);
    SERVER.proxy.blackhole();
    await sendAll(SERVER, alice, bob, 1, 5);
    await until(state.socket, "connect", () => state.reconnections.length >= 1, 15000, () => "no reconnection");
    assert.deepEqual(state.reconnections, [true]);
    const stored = await history(SERVER, bob, conversation);
    await until(state.socket, "new_message", () => state.received.length >= 5, 10000, () => `${state.received.length} of 5`);
    assert.deepEqual(
      state.received.map((m) => m.id),
      stored.slice(1).map((m) => m.id),
      "the five sent while away, once each, in order",
    );
    state.socket.close();
  });

  test("a second and a third recovery in a row, before the server noticed the dead transports, each recover", async () => {
    const { alice, bob, conversation, state } = await opened(["websocket"]);
    for (let round = 1; round <= 3; round++) {
      await sendAll(SERVER, alice, bob, round * 100, 20);
      SERVER.proxy.blackhole();
      await sendAll(SERVER, alice, bob, round * 100 + 20, 20);
      await until(state.socket, "connect", () => state.reconnections.length >= round, 15000, () => `reconnection ${round}`);
    }
    assert.deepEqual(state.reconnections, [true, true, true]);
    await assertExactlyTheHistory(SERVER, state, bob, conversation);
    state.socket.close();
  });

  test("a client offline for 12 s recovers", async () => {
    const { alice, bob, conversation, state } = await opened(TRANSPORTS[0].transports);
    await sendAll(SERVER, alice, bob, 1, 10);
    const offline = SERVER.proxy.offline(12000);
    await sendAll(SERVER, alice, bob, 11, 10);
    await offline;
    await until(state.socket, "connect", () => state.reconnections.length >= 1, 20000, () => "no reconnection");
    assert.deepEqual(state.reconnections, [true]);
    await assertExactlyTheHistory(SERVER, state, bob, conversation);
    state.socket.close();
  });

  for (const signal of ["SIGTERM", "SIGKILL"]) {
    test(`a server stopped with ${signal} mid-burst and started again: the client recovers with every message once, in order`, async () => {
      const { alice, bob, conversation, state } = await opened(TRANSPORTS[0].transports);
      let restarted = null;
      await sendAll(SERVER, alice, bob, 1, 200, (n) => {
        if (n === 80 && !restarted) {
          const port = SERVER.current.port;
          restarted = stopServer(SERVER.current, signal).then(async () => {
            SERVER.current = await startServer(port);
          });
        }
      });
      await restarted;
      await sendAll(SERVER, alice, bob, 201, 20);
      await until(state.socket, "connect", () => state.reconnections.length >= 1, 20000, () => "no reconnection");
      assert.ok(state.reconnections.every((recovered) => recovered === true), JSON.stringify(state.reconnections));
      await assertExactlyTheHistory(SERVER, state, bob, conversation);
      state.socket.close();
    });
  }
});
