// A cluster under faults, with the real socket.io-client: three chat-server nodes sharing one
// PostgreSQL and one Redis, behind HAProxy (cluster-harness.mjs starts all of it). Events cross
// nodes (messages, group changes, typing, presence); a node killed under a steady flow of sends
// loses nothing acknowledged and its clients recover on another node, and its users who had no
// other socket are announced offline once; Redis restarted under load loses and repeats
// nothing; PostgreSQL unreachable for a while gets 503s, never a 500 or a hang, and the cluster
// comes back by itself.
//
// Run by the Rust driver (tests/cluster.rs), which passes SERVER_BIN, DATABASE_URL, JWT_SECRET
// and TOKENS. Its name (not *.test.mjs) keeps it out of the default `node --test` run.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import {
  TOKENS,
  startBalancer,
  startDatabaseProxy,
  startNode,
  startRedis,
  waitFor,
} from "./cluster-harness.mjs";

/** The two ways a client connects: WebSocket only, and the default (polling, then upgrade). */
const TRANSPORTS = [
  { name: "websocket only", transports: ["websocket"] },
  { name: "polling then websocket", transports: ["polling", "websocket"] },
];
/** `CHAT_PRESENCE_TTL_SECS` of the nodes (cluster-harness.mjs). */
const PRESENCE_TTL_MS = 2000;

const CLUSTER = { redis: null, database: null, nodes: {}, balancer: null, sockets: [], flows: [] };
const node = (name) => CLUSTER.nodes[name];
/** A node that is never killed, for setting up and reading back. */
const steady = () => node("B").url;

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A REST call to `base` as user `id`, answered within `ms` or failed. */
async function rest(base, id, method, path, body, ms = 8000) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${TOKENS[id]}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text for the assertion message
  }
  return { status: response.status, body: parsed };
}

/** `GET /readyz` of `base`: its status, or 0 when nothing answered within 3 s. */
async function readiness(base) {
  try {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

let nextUser = 1;
/** `count` fresh users who exist on the server (a first request with a token provisions its user). */
async function freshUsers(count) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    const id = nextUser++;
    assert.ok(TOKENS[id], `no token for user ${id}: the driver (tests/cluster.rs) gives too few`);
    const me = await rest(steady(), id, "GET", "/api/users/me");
    assert.equal(me.status, 200, JSON.stringify(me.body));
    ids.push(id);
  }
  return ids;
}

/**
 * A direct conversation of `a` and `b` made by a first message: its id, that message's seq
 * (what its sockets, joined later, do not receive) and a member who reads it.
 */
async function direct(a, b) {
  const sent = await rest(steady(), a, "POST", "/api/chat/send", { receiverId: b, content: `hello ${b}` });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  return { id: sent.body.data.conversation_id, baseline: sent.body.data.seq, reader: a, receiver: b };
}

/** A group made by `owner` with `members`, on `base`; nothing in it yet. */
async function group(base, owner, members, title = "cluster") {
  const made = await rest(base, owner, "POST", "/api/chat/groups", { title, memberIds: members });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { id: made.body.data.id, baseline: 0, reader: owner };
}

/**
 * A client of user `id` at `url`, as an app runs it (it reconnects by itself unless told not
 * to), recording what it receives: `new_message` by conversation, presence, every reconnection's
 * `socket.recovered` and every disconnection. `withCredentials` keeps the balancer's CHATNODE
 * cookie (socket.io-client 4.8 keeps a cookie jar in Node when it is set), so that its polling
 * requests and its upgrade stay on one node.
 */
async function client(url, id, transports, label, { reconnection = true } = {}) {
  const socket = io(url, {
    auth: { token: TOKENS[id] },
    transports,
    forceNew: true,
    withCredentials: true,
    reconnection,
    reconnectionDelay: 250,
    reconnectionDelayMax: 1000,
  });
  CLUSTER.sockets.push(socket);
  const state = {
    socket,
    user: id,
    label: `${label} (user ${id}, ${transports.join("+")})`,
    received: new Map(),
    presence: [],
    reconnections: [],
    disconnects: [],
  };
  socket.on("new_message", (message) => {
    const list = state.received.get(message.conversation_id) ?? [];
    list.push(message);
    state.received.set(message.conversation_id, list);
  });
  for (const event of ["user_online", "user_offline"]) {
    socket.on(event, (payload) => state.presence.push({ event, userId: payload.userId, at: Date.now() }));
  }
  socket.on("disconnect", (reason) => state.disconnects.push({ reason, at: Date.now() }));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${state.label}: not connected within 10 s`)), 10000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      socket.close();
      reject(new Error(`${state.label}: ${error.message}`));
    });
  });
  socket.on("connect", () => state.reconnections.push(socket.recovered));
  return state;
}

/** Joins `state`'s socket to each of `conversations`. */
async function join(state, ...conversations) {
  for (const conversation of conversations) {
    const joined = await state.socket.timeout(5000).emitWithAck("join_conversation", { conversationId: conversation.id });
    assert.equal(joined.success, true, `${state.label} joins ${conversation.id}: ${JSON.stringify(joined)}`);
  }
}

/** The next `event` on `state`'s socket for which `match(payload)` holds, or a rejection after `ms`. */
function nextEvent(state, event, match = () => true, ms = 5000) {
  const promise = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      state.socket.off(event, listener);
      reject(new Error(`${state.label}: no matching ${event} within ${ms} ms`));
    }, ms);
    const listener = (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      state.socket.off(event, listener);
      resolve(payload);
    };
    state.socket.on(event, listener);
  });
  // Awaited by the test; a test that failed before awaiting it leaves no unhandled rejection.
  promise.catch(() => {});
  return promise;
}

/** A conversation's stored messages, oldest first, read with the `after` cursor page by page. */
async function history(base, reader, conversation) {
  const messages = [];
  let afterSeq = 0;
  for (;;) {
    const path = `/api/chat/conversations/${conversation}/messages?after=${afterSeq}&limit=100`;
    const { status, body } = await rest(base, reader, "GET", path);
    assert.equal(status, 200, `GET ${path}: ${JSON.stringify(body)}`);
    const page = [...body.data.messages].reverse();
    messages.push(...page);
    if (page.length < 100) return messages;
    afterSeq = page[page.length - 1].seq;
  }
}

/**
 * A steady flow of sends: each of `senders` sends one message every `1000 / perSecond` ms in
 * turn into each of its conversations, without waiting for the previous one's answer. A socket
 * sender emits `send_message` with an ack (given up after 8 s); a REST sender posts to
 * `sender.base()`. Every message's content is unique; `acked` holds those the server
 * acknowledged (REST 201, or an ack with `success: true`).
 */
function startFlow(tag, senders, perSecond = 20) {
  const flow = { running: true, sent: 0, acked: new Set(), failures: [], pending: new Set() };
  const settle = (promise) => {
    flow.pending.add(promise);
    promise.finally(() => flow.pending.delete(promise));
  };
  const viaSocket = (sender, conversationId, content) =>
    new Promise((resolve) => {
      sender.state.socket.timeout(8000).emit("send_message", { conversationId, content }, (error, ack) => {
        if (error) flow.failures.push({ content, via: sender.state.label, error: error.message });
        else if (ack.success) flow.acked.add(content);
        else flow.failures.push({ content, via: sender.state.label, ack });
        resolve();
      });
    });
  const viaRest = async (sender, conversationId, content) => {
    const base = sender.base();
    try {
      const sent = await rest(base, sender.id, "POST", `/api/chat/conversations/${conversationId}/messages`, { content });
      if (sent.status === 201) flow.acked.add(content);
      else flow.failures.push({ content, via: base, status: sent.status, body: sent.body });
    } catch (error) {
      flow.failures.push({ content, via: base, error: String(error?.cause?.code ?? error) });
    }
  };
  const loops = senders.map(async (sender) => {
    for (let n = 0; flow.running; n++) {
      const conversation = sender.conversations[n % sender.conversations.length];
      const content = `${tag} ${sender.id} #${n}`;
      flow.sent++;
      settle(sender.state ? viaSocket(sender, conversation.id, content) : viaRest(sender, conversation.id, content));
      await delay(1000 / perSecond); // the flow's pace, not a wait for anything
    }
  });
  flow.stop = async () => {
    flow.running = false;
    await Promise.all(loops);
    await Promise.allSettled([...flow.pending]);
  };
  CLUSTER.flows.push(flow);
  return flow;
}

/**
 * Checks a conversation after a flow has stopped and every send has been answered: each
 * acknowledged message is stored exactly once, nothing is stored twice, and each of `states`
 * received exactly the stored history after `conversation.baseline`, in seq order, once each.
 * The history is read again until it no longer changes, in case a send answered with a
 * failure committed all the same.
 */
async function assertExactlyOnce(conversation, states) {
  const reader = conversation.reader;
  let stored = await history(steady(), reader, conversation.id);
  const expected = () => stored.filter((m) => m.seq > conversation.baseline).length;
  for (const state of states) {
    await waitFor(
      () => since(state, conversation).length >= expected(),
      20000,
      () => `${state.label}: ${since(state, conversation).length} of ${expected()} in ${conversation.id}`,
    );
  }
  const again = await history(steady(), reader, conversation.id);
  if (again.length !== stored.length) return assertExactlyOnce(conversation, states);
  stored = again;
  const contents = new Map();
  for (const message of stored) contents.set(message.content, (contents.get(message.content) ?? 0) + 1);
  const repeated = [...contents].filter(([, count]) => count > 1);
  assert.deepEqual(repeated, [], `conversation ${conversation.id}: stored more than once`);
  const want = stored.filter((m) => m.seq > conversation.baseline).map((m) => `${m.seq}:${m.id}`);
  for (const state of states) {
    const got = since(state, conversation).map((m) => `${m.seq}:${m.id}`);
    assert.deepEqual(got, want, `${state.label} received exactly the stored history of ${conversation.id}, in order, once each`);
  }
  return contents;
}

/**
 * The messages of `conversation` that `state`'s socket received, past the conversation's
 * baseline: what was sent before the socket joined is not its to receive (a node may still be
 * delivering it when the socket joins; its arrival or not is not what these tests are about).
 */
function since(state, conversation) {
  return (state.received.get(conversation.id) ?? []).filter((m) => m.seq > conversation.baseline);
}

/** Every acknowledged message of `flow` is among the stored ones (`contents`, over all conversations). */
function assertAckedStored(flow, contents) {
  const missing = [...flow.acked].filter((content) => !contents.has(content));
  assert.deepEqual(missing, [], `acknowledged but not stored (${flow.acked.size} acknowledged)`);
}

/** Every reconnection of each of `states` recovered its session. */
function assertRecovered(states) {
  const refused = states.filter((state) => !state.reconnections.every((recovered) => recovered === true));
  assert.deepEqual(
    refused.map((state) => `${state.label}: ${JSON.stringify(state.reconnections)}`),
    [],
    `socket.recovered at each reconnection (of ${states.length} sockets, ${states.filter((state) => state.reconnections.length > 0).length} reconnected)`,
  );
}

before(
  async () => {
    CLUSTER.redis = await startRedis();
    CLUSTER.database = await startDatabaseProxy(process.env.DATABASE_URL);
    for (const name of ["A", "B", "C"]) {
      CLUSTER.nodes[name] = await startNode(name, { databaseUrl: CLUSTER.database.url, redisUrl: CLUSTER.redis.url });
    }
    CLUSTER.balancer = await startBalancer(Object.values(CLUSTER.nodes));
  },
  { timeout: 60000 },
);

after(async () => {
  // A test that failed mid-flow left its senders going.
  await Promise.all(CLUSTER.flows.map((flow) => flow.stop()));
  for (const socket of CLUSTER.sockets) socket.close();
  await CLUSTER.balancer?.close();
  await Promise.all(Object.values(CLUSTER.nodes).map((n) => n.kill()));
  await CLUSTER.database?.close();
  await CLUSTER.redis?.close();
});

describe("a cluster of three nodes behind HAProxy, sharing PostgreSQL and Redis", () => {
  for (const { name, transports } of TRANSPORTS) {
    test(`over ${name}: messages, group changes, typing and presence cross nodes`, { timeout: 30000 }, async () => {
      const [alice, bob, carol] = await freshUsers(3);
      // Bob on node B, Alice on node A.
      const bobOnB = await client(node("B").url, bob, transports, "bob on B");
      assert.deepEqual(await bobOnB.socket.timeout(5000).emitWithAck("join_personal_room"), { success: true });

      // A direct conversation's first message, sent on A, is announced to Bob's room on B...
      const notified = nextEvent(bobOnB, "message_notification", (n) => n.senderId === alice);
      const first = await rest(node("A").url, alice, "POST", "/api/chat/send", { receiverId: bob, content: "first, on A" });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const dm = { id: first.body.data.conversation_id };
      assert.equal((await notified).message.id, first.body.data.id);
      // ...and the next one reaches his socket in the conversation's room.
      await join(bobOnB, dm);
      const arrived = nextEvent(bobOnB, "new_message", (m) => m.conversation_id === dm.id && m.seq > first.body.data.seq);
      const second = await rest(node("A").url, alice, "POST", "/api/chat/send", { receiverId: bob, content: "second, on A" });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.equal((await arrived).id, second.body.data.id);

      // A group made on A reaches Bob on B; a message sent into it on A does too.
      const created = nextEvent(bobOnB, "conversation_created");
      const team = await group(node("A").url, alice, [bob, carol]);
      assert.equal((await created).conversationId, team.id);
      await join(bobOnB, team);
      const inGroup = nextEvent(bobOnB, "new_message", (m) => m.conversation_id === team.id);
      const sent = await rest(node("A").url, alice, "POST", `/api/chat/conversations/${team.id}/messages`, { content: "to the team, on A" });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.equal((await inGroup).id, sent.body.data.id);

      // Presence: Alice's first socket, on A, is announced to her contact Bob on B.
      const online = nextEvent(bobOnB, "user_online", (p) => p.userId === alice);
      const aliceOnA = await client(node("A").url, alice, transports, "alice on A");
      await online;

      // Typing on A reaches the room's member on B.
      await join(aliceOnA, team);
      const typing = nextEvent(bobOnB, "user_typing");
      aliceOnA.socket.emit("typing", { conversationId: team.id });
      assert.deepEqual(await typing, { userId: alice, conversationId: team.id });

      // Alice's last socket leaving A is announced on B too.
      const offline = nextEvent(bobOnB, "user_offline", (p) => p.userId === alice);
      aliceOnA.socket.close();
      await offline;

      // Through the balancer (sticky by its cookie) Carol receives what Alice sends on C.
      const carolThere = await client(CLUSTER.balancer.url, carol, transports, "carol via the balancer");
      await join(carolThere, team);
      const viaBalancer = nextEvent(carolThere, "new_message", (m) => m.conversation_id === team.id && m.seq > sent.body.data.seq);
      const third = await rest(node("C").url, alice, "POST", `/api/chat/conversations/${team.id}/messages`, { content: "on C" });
      assert.equal(third.status, 201, JSON.stringify(third.body));
      assert.equal((await viaBalancer).id, third.body.data.id);
      bobOnB.socket.close();
      carolThere.socket.close();
    });
  }

  test("a member added on one node gets the group's next message sent on another, which had the group's members in memory", { timeout: 30000 }, async () => {
    const [alice, bob, zed] = await freshUsers(3);
    const team = await group(node("A").url, alice, [bob], "members in memory");
    // A send on B makes B remember the group's members (whom it announces messages to).
    const before = await rest(node("B").url, bob, "POST", `/api/chat/conversations/${team.id}/messages`, { content: "before zed" });
    assert.equal(before.status, 201, JSON.stringify(before.body));
    // Zed joins on A; his socket on C is in no room of the group, only in his personal room.
    const zedOnC = await client(node("C").url, zed, ["websocket"], "zed on C");
    assert.deepEqual(await zedOnC.socket.timeout(5000).emitWithAck("join_personal_room"), { success: true });
    const added = nextEvent(zedOnC, "member_added", (e) => e.conversationId === team.id && e.member.id === zed);
    const addition = await rest(node("A").url, alice, "POST", `/api/chat/conversations/${team.id}/members`, { userIds: [zed] });
    assert.equal(addition.status, 200, JSON.stringify(addition.body));
    await added;
    // B heard of the addition over the bus: its next send is announced to Zed too.
    const notified = nextEvent(zedOnC, "message_notification", (n) => n.conversationId === team.id);
    const after = await rest(node("B").url, bob, "POST", `/api/chat/conversations/${team.id}/messages`, { content: "after zed" });
    assert.equal(after.status, 201, JSON.stringify(after.body));
    assert.equal((await notified).message.id, after.body.data.id);
    zedOnC.socket.close();
  });

  test("a polling client stays on its node through the balancer (the CHATNODE cookie), over many polls", { timeout: 30000 }, async () => {
    const [alice, bob] = await freshUsers(2);
    const dm = await direct(alice, bob);
    const bobThere = await client(CLUSTER.balancer.url, bob, ["polling"], "bob polling via the balancer");
    await join(bobThere, dm);
    // Each message is one long-poll answered and another one sent: 20 requests or more, all on
    // one node, else the node that does not hold the session answers "Session ID unknown".
    const sent = [];
    for (let n = 0; n < 10; n++) {
      const answer = await rest(steady(), alice, "POST", `/api/chat/conversations/${dm.id}/messages`, { content: `poll ${n}` });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      sent.push(answer.body.data.id);
      await waitFor(() => since(bobThere, dm).length > n, 5000, () => `poll ${n} not received`);
    }
    assert.deepEqual(since(bobThere, dm).map((m) => m.id), sent);
    assert.deepEqual(bobThere.disconnects, []);
    bobThere.socket.close();
  });

  test("a polling request whose sid belongs to node A, sent to node B, is an unknown session at once", { timeout: 15000 }, async () => {
    const [alice] = await freshUsers(1);
    const onA = await client(node("A").url, alice, ["polling"], "alice polling on A");
    const sid = onA.socket.io.engine.id;
    assert.ok(sid, "the client holds an Engine.IO session id");
    const started = Date.now();
    const response = await fetch(`${node("B").url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = await response.json();
    const elapsed = Date.now() - started;
    assert.equal(response.status, 400);
    assert.deepEqual(body, { code: 1, message: "Session ID unknown" });
    assert.ok(elapsed < 1000, `answered in ${elapsed} ms`);
    // The session on A is not disturbed by it.
    assert.equal(onA.socket.connected, true);
    onA.socket.close();
  });

  test(
    "node A killed under a steady flow of sends: nothing acknowledged is lost or repeated, its clients recover on another node, its users are announced offline once",
    { timeout: 90000 },
    async (t) => {
      const senders = await freshUsers(10);
      const receivers = await freshUsers(4);
      const watchers = await freshUsers(2);
      const ghosts = await freshUsers(2);
      const everyone = [...senders, ...receivers, ...watchers];
      const room = await group(steady(), senders[0], everyone.slice(1), "flow");
      const directs = [];
      for (let i = 0; i < senders.length; i++) directs.push(await direct(senders[i], receivers[i % receivers.length]));

      // Watchers on B and C directly, in the group, each a contact of both ghosts.
      const watcherStates = [
        await client(node("B").url, watchers[0], TRANSPORTS[0].transports, "watcher on B"),
        await client(node("C").url, watchers[1], TRANSPORTS[1].transports, "watcher on C"),
      ];
      for (const state of watcherStates) await join(state, room);
      for (const ghost of ghosts) for (const watcher of watchers) await direct(ghost, watcher);

      // Balancer clients: five socket senders and two devices per receiver, alternating
      // transports, so that round robin puts some of each on every node.
      const balancerStates = [];
      const flowSenders = [];
      for (let i = 0; i < 5; i++) {
        const state = await client(CLUSTER.balancer.url, senders[i], TRANSPORTS[i % 2].transports, `sender ${i} via the balancer`);
        await join(state, room, directs[i]);
        balancerStates.push({ state, conversations: [room, directs[i]] });
        flowSenders.push({ id: senders[i], state, conversations: [room, directs[i]] });
      }
      for (let j = 0; j < receivers.length; j++) {
        const mine = directs.filter((_, i) => i % receivers.length === j);
        for (let device = 0; device < 2; device++) {
          const state = await client(CLUSTER.balancer.url, receivers[j], TRANSPORTS[(j + device) % 2].transports, `receiver ${j} device ${device} via the balancer`);
          await join(state, room, ...mine);
          balancerStates.push({ state, conversations: [room, ...mine] });
        }
      }
      // Five REST senders through the balancer.
      for (let i = 5; i < 10; i++) flowSenders.push({ id: senders[i], base: () => CLUSTER.balancer.url, conversations: [room, directs[i]] });

      // The ghosts: one socket each, on A only, that does not reconnect; their contacts on B and
      // C see them come online.
      const ghostsOnline = watcherStates.flatMap((w) => ghosts.map((g) => nextEvent(w, "user_online", (p) => p.userId === g, 10000)));
      const ghostStates = [];
      for (let i = 0; i < ghosts.length; i++) {
        ghostStates.push(await client(node("A").url, ghosts[i], TRANSPORTS[i % 2].transports, `ghost ${i} on A`, { reconnection: false }));
      }
      await Promise.all(ghostsOnline);

      const flow = startFlow("kill", flowSenders);
      await waitFor(() => flow.acked.size >= 200, 15000, () => `${flow.acked.size} of 200 acknowledged before the kill`);
      await node("A").kill();
      const killedAt = Date.now();
      // A's clients are the ones the kill disconnected (a WebSocket's tunnel closes, a pending
      // long-poll fails at once); round robin put some of each transport there.
      const onA = () => balancerStates.filter(({ state }) => state.disconnects.length > 0).map(({ state }) => state);
      await waitFor(
        () => TRANSPORTS.every(({ transports }) => onA().some((state) => state.socket.io.opts.transports.join() === transports.join())),
        5000,
        () => `a client of each transport disconnected by the kill: ${onA().map((state) => state.label).join(", ")}`,
      );
      // The flow goes on while they reconnect through the balancer, then until it has had 200
      // more messages acknowledged.
      await waitFor(
        () => balancerStates.every(({ state }) => state.socket.connected && state.disconnects.length === state.reconnections.length),
        15000,
        () => `reconnected: ${onA().map((state) => `${state.label} ${state.reconnections.length}/${state.disconnects.length}`).join(", ")}`,
      );
      const ackedAtRecovery = flow.acked.size;
      await waitFor(() => flow.acked.size >= ackedAtRecovery + 200, 15000, () => `${flow.acked.size - ackedAtRecovery} of 200 acknowledged after the recovery`);
      await flow.stop();
      // Settled: every client connected, each disconnection followed by its reconnection.
      await waitFor(
        () => balancerStates.every(({ state }) => state.socket.connected && state.disconnects.length === state.reconnections.length),
        15000,
        () => `reconnected: ${onA().map((state) => `${state.label} ${state.reconnections.length}/${state.disconnects.length}`).join(", ")}`,
      );
      assertRecovered(balancerStates.map(({ state }) => state));

      // Every acknowledged message stored once, every socket with each stored message once, in order.
      const contents = new Map();
      const members = (conversation) => [...balancerStates.filter(({ conversations }) => conversations.includes(conversation)).map(({ state }) => state), ...(conversation === room ? watcherStates : [])];
      for (const conversation of [room, ...directs]) {
        const stored = await assertExactlyOnce(conversation, members(conversation));
        for (const [content, count] of stored) contents.set(content, (contents.get(content) ?? 0) + count);
      }
      assertAckedStored(flow, contents);
      assert.ok(flow.acked.size >= 400, `${flow.acked.size} acknowledged`);
      t.diagnostic(
        `${flow.sent} sent, ${flow.acked.size} acknowledged, ${flow.failures.length} not (sent to A as it died); ` +
          `${onA().length} of ${balancerStates.length} balancer clients were on A and recovered`,
      );

      // Each ghost is announced offline to each watcher once, within the presence TTL and a bound.
      for (const watcher of watcherStates) {
        for (const ghost of ghosts) {
          await waitFor(
            () => watcher.presence.some((p) => p.event === "user_offline" && p.userId === ghost),
            Math.max(0, killedAt + 10000 - Date.now()),
            `${watcher.label}: user_offline of ghost ${ghost} within 10 s of the kill`,
          );
        }
      }
      // Long enough after the first announcement for a repeat (by another survivor, or at a
      // later heartbeat) to have arrived.
      const firstOffline = Math.max(...watcherStates.flatMap((w) => w.presence.filter((p) => p.event === "user_offline" && ghosts.includes(p.userId)).map((p) => p.at)));
      await delay(Math.max(0, firstOffline + 2 * PRESENCE_TTL_MS + 1000 - Date.now()));
      for (const watcher of watcherStates) {
        for (const ghost of ghosts) {
          const announced = watcher.presence.filter((p) => p.event === "user_offline" && p.userId === ghost);
          assert.equal(announced.length, 1, `${watcher.label}: user_offline of ghost ${ghost}: ${JSON.stringify(watcher.presence)}`);
          t.diagnostic(`${watcher.label}: ghost ${ghost} announced offline ${announced[0].at - killedAt} ms after the kill`);
        }
      }
      for (const state of [...balancerStates.map(({ state }) => state), ...watcherStates, ...ghostStates]) state.socket.close();
    },
  );

  test(
    "Redis stopped under a flow of sends and started again: sends keep succeeding, /readyz says so, every socket on every node ends with the full history",
    { timeout: 60000 },
    async (t) => {
      await restartIfDead("A");
      const [alice, bob, carol, dave, erin, frank, gina] = await freshUsers(7);
      const room = await group(steady(), alice, [bob, carol, dave, erin, frank], "redis");
      // Gina, Alice's contact, will connect while Redis is down.
      await direct(gina, alice);
      const directs = [await direct(dave, alice), await direct(erin, bob), await direct(frank, alice)];
      // Receivers on every node, on both transports; the socket senders receive too.
      const states = [];
      const place = [
        ["A", alice, 0], ["B", alice, 1], ["C", bob, 0], ["A", bob, 1], ["B", carol, 0], ["C", carol, 1],
      ];
      for (const [name, id, t] of place) {
        const state = await client(node(name).url, id, TRANSPORTS[t].transports, `on ${name}`);
        const conversations = [room, ...directs.filter((d) => d.reader === id || d.receiver === id)];
        await join(state, ...conversations);
        states.push({ state, conversations });
      }
      const flowSenders = [
        { id: alice, state: states[0].state, conversations: [room] },
        { id: carol, state: states[4].state, conversations: [room] },
        { id: dave, base: () => node("A").url, conversations: [room, directs[0]] },
        { id: erin, base: () => node("B").url, conversations: [room, directs[1]] },
        { id: frank, base: () => node("C").url, conversations: [room, directs[2]] },
        // Through the balancer, which keeps sending to the nodes when none is ready.
        { id: bob, base: () => CLUSTER.balancer.url, conversations: [room] },
      ];
      const flow = startFlow("redis", flowSenders);
      await waitFor(() => flow.acked.size >= 100, 10000, () => `${flow.acked.size} of 100 acknowledged before the outage`);

      await CLUSTER.redis.stop();
      for (const name of ["A", "B", "C"]) {
        await waitFor(async () => (await readiness(node(name).url)) === 503, 5000, `/readyz of ${name} is 503 while Redis is down`);
      }
      const ackedAtOutage = flow.acked.size;
      const aliceOnB = states[1].state; // place[1]: Alice on B
      const ginaOnline = nextEvent(aliceOnB, "user_online", (p) => p.userId === gina, 20000);
      const ginaOnA = await client(node("A").url, gina, ["websocket"], "gina on A, while Redis is down");
      await waitFor(() => flow.acked.size >= ackedAtOutage + 200, 10000, () => `${flow.acked.size - ackedAtOutage} of 200 acknowledged while Redis is down`);
      await CLUSTER.redis.start();
      for (const name of ["A", "B", "C"]) {
        await waitFor(async () => (await readiness(node(name).url)) === 200, 10000, `/readyz of ${name} is 200 once Redis is back`);
      }
      // Presence recorded while Redis was away is announced once it returns.
      await ginaOnline;
      ginaOnA.socket.close();
      const ackedAtReturn = flow.acked.size;
      await waitFor(() => flow.acked.size >= ackedAtReturn + 100, 10000, () => `${flow.acked.size - ackedAtReturn} of 100 acknowledged after Redis returned`);
      await flow.stop();

      assert.deepEqual(flow.failures, [], "every send succeeded, Redis down or not");
      t.diagnostic(`${flow.acked.size} sent and acknowledged, ${ackedAtReturn - ackedAtOutage} of them while Redis was down`);
      const contents = new Map();
      for (const conversation of [room, ...directs]) {
        const members = states.filter(({ conversations }) => conversations.includes(conversation)).map(({ state }) => state);
        for (const [content, count] of await assertExactlyOnce(conversation, members)) contents.set(content, count);
      }
      assertAckedStored(flow, contents);
      assertRecovered(states.map(({ state }) => state));
      for (const { state } of states) state.socket.close();
    },
  );

  test(
    "PostgreSQL unreachable for a while: sends answer 503 promptly, never 500, /readyz says so, and everything works again when it returns",
    { timeout: 60000 },
    async (t) => {
      await restartIfDead("A");
      const [alice, bob, carol] = await freshUsers(3);
      const room = await group(steady(), alice, [bob, carol], "database");
      const states = [];
      const place = [["A", bob, 0], ["B", bob, 1], ["C", carol, 0], ["A", carol, 1]];
      for (const [name, id, t] of place) {
        const state = await client(node(name).url, id, TRANSPORTS[t].transports, `on ${name}`);
        await join(state, room);
        states.push(state);
      }
      const sendOn = (name, content) =>
        rest(node(name).url, alice, "POST", `/api/chat/conversations/${room.id}/messages`, { content }, 5000);
      for (const name of ["A", "B", "C"]) {
        const sent = await sendOn(name, `before, on ${name}`);
        assert.equal(sent.status, 201, JSON.stringify(sent.body));
      }

      CLUSTER.database.down();
      for (const name of ["A", "B", "C"]) {
        await waitFor(async () => (await readiness(node(name).url)) === 503, 5000, `/readyz of ${name} is 503 while PostgreSQL is unreachable`);
      }
      // Sends to every node, one after another on each, for three seconds: each is answered
      // 503 `unavailable` within 5 s (a hang is an abort at 5 s, and fails).
      const outageEnds = Date.now() + 3000;
      const answers = [];
      await Promise.all(
        ["A", "B", "C"].map(async (name) => {
          for (let n = 0; Date.now() < outageEnds || n < 2; n++) {
            const started = Date.now();
            const sent = await sendOn(name, `during, on ${name} #${n}`);
            answers.push({ name, status: sent.status, code: sent.body?.code, ms: Date.now() - started });
          }
        }),
      );
      const wrong = answers.filter((a) => a.status !== 503 || a.code !== "unavailable" || a.ms >= 5000);
      assert.deepEqual(wrong, [], `every send while PostgreSQL is unreachable is 503 unavailable within 5 s (${answers.length} sent)`);
      t.diagnostic(`${answers.length} sends while PostgreSQL was unreachable, all 503, the slowest in ${Math.max(...answers.map((a) => a.ms))} ms`);

      CLUSTER.database.up();
      for (const name of ["A", "B", "C"]) {
        await waitFor(async () => (await readiness(node(name).url)) === 200, 15000, `/readyz of ${name} is 200 once PostgreSQL is back`);
      }
      // Nothing restarted: each node's sends succeed again, and every socket gets them.
      for (const name of ["A", "B", "C"]) {
        for (let n = 0; n < 3; n++) {
          const sent = await sendOn(name, `after, on ${name} #${n}`);
          assert.equal(sent.status, 201, `${name}: ${JSON.stringify(sent.body)}`);
        }
      }
      await assertExactlyOnce(room, states);
      assertRecovered(states);
      for (const state of states) {
        const contents = state.received.get(room.id).map((m) => m.content);
        assert.ok(contents.includes("after, on C #2"), `${state.label} got the sends after the outage`);
        state.socket.close();
      }
    },
  );
});

/** Starts node `name` again on its port if a test killed it. */
async function restartIfDead(name) {
  const dead = node(name);
  if (dead.child.exitCode === null && dead.child.signalCode === null) return;
  CLUSTER.nodes[name] = await startNode(name, { databaseUrl: CLUSTER.database.url, redisUrl: CLUSTER.redis.url, port: dead.port });
}
