// The seed's Socket.IO events with the real socket.io-client, on both transports.
// Users 1..20 exist; conversation 1 is between users 1 and 2 (the Rust driver sets this up).
// Each transport's tests use users of their own (1..8, then 11..18) and close their sockets,
// so that nothing one test leaves behind changes what the next one sees.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, collect, connect, next, rest } from "./helpers.mjs";

const client = clientsClosedAfterEach();

/** The direct conversation of a pair, created by a REST send from `a` to `b`. */
async function conversationOf(a, b, text = "setup") {
  const sent = await rest(a, "POST", "/api/chat/send", { receiverId: b, content: text });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  return sent.body.data.conversation_id;
}

for (const [round, { name, transports }] of TRANSPORTS.entries()) {
  // User `n` of this transport's round.
  const u = (n) => n + 10 * round;
  describe(`socket.io-client over ${name}`, () => {
    test("a bad or missing token gets connect_error 'Authentication error'", async () => {
      for (const auth of [{ token: "not-a-token" }, {}]) {
        await assert.rejects(connect(u(1), transports, { auth }), (error) => {
          assert.equal(error.message, "Authentication error");
          return true;
        });
      }
    });

    test("send_message reaches the room and notifies a receiver outside it", async () => {
      const conversation = await conversationOf(u(3), u(4));
      const alice = await client(u(3), transports);
      const bob = await client(u(4), transports);
      assert.deepEqual(await ask(bob, "join_personal_room"), { success: true });
      const joined = await ask(alice, "join_conversation", { conversationId: conversation });
      assert.equal(joined.success, true);

      const inRoom = next(alice, "new_message");
      const notified = next(bob, "message_notification");
      const ack = await ask(alice, "send_message", { receiverId: u(4), content: "hi over sockets" });
      assert.equal(ack.success, true);
      assert.equal(ack.data.content, "hi over sockets");
      const message = await inRoom;
      assert.deepEqual(
        { content: message.content, sender_id: message.sender_id, receiver_id: message.receiver_id, seq: message.seq },
        { content: "hi over sockets", sender_id: u(3), receiver_id: u(4), seq: ack.data.seq },
      );
      const notification = await notified;
      assert.equal(notification.conversationId, conversation);
      assert.equal(notification.senderId, u(3));
      assert.equal(notification.message.id, message.id);

      const bobJoins = next(alice, "user_joined");
      await ask(bob, "join_conversation", { conversationId: conversation });
      assert.deepEqual(await bobJoins, { userId: u(4), conversationId: conversation });
      const both = [next(alice, "new_message"), next(bob, "new_message")];
      await ask(alice, "send_message", { receiverId: u(4), content: "both in the room" });
      for (const got of await Promise.all(both)) assert.equal(got.content, "both in the room");
    });

    test("typing, stop_typing and mark_as_read reach the others in the room", async () => {
      const conversation = await conversationOf(u(5), u(6), "read me");
      const alice = await client(u(5), transports);
      const bob = await client(u(6), transports);
      await ask(alice, "join_conversation", { conversationId: conversation });
      await ask(bob, "join_conversation", { conversationId: conversation });

      const typing = next(alice, "user_typing");
      assert.equal((await ask(bob, "typing", { conversationId: conversation })).success, true);
      assert.deepEqual(await typing, { userId: u(6), conversationId: conversation });
      const stopped = next(alice, "user_stopped_typing");
      await ask(bob, "stop_typing", { conversationId: conversation });
      assert.deepEqual(await stopped, { userId: u(6), conversationId: conversation });

      const read = next(alice, "messages_read");
      const ack = await ask(bob, "mark_as_read", { conversationId: conversation });
      assert.deepEqual(ack, { success: true, data: { updated: 1 } });
      const receipt = await read;
      assert.equal(receipt.conversationId, conversation);
      assert.equal(receipt.userId, u(6));
      assert.ok(!Number.isNaN(Date.parse(receipt.readAt)));
    });

    test("a REST send reaches the sockets like a socket send", async () => {
      const conversation = await conversationOf(u(7), u(8));
      const bob = await client(u(8), transports);
      await ask(bob, "join_conversation", { conversationId: conversation });
      const arrived = next(bob, "new_message");
      const sent = await rest(u(7), "POST", "/api/chat/send", { receiverId: u(8), content: "from REST" });
      assert.equal(sent.status, 201);
      assert.equal((await arrived).id, sent.body.data.id);
    });

    test("acks carry the error of a refused event", async () => {
      const alice = await client(u(1), transports);
      const errors = next(alice, "error");
      const ack = await ask(alice, "send_message", { receiverId: u(2), content: "   " });
      assert.equal(ack.success, false);
      assert.match(ack.message, /content/);
      const error = await errors;
      assert.match(error.message, /content/);
      assert.deepEqual([error.code, error.event], ["invalid_input", "send_message"]);
      const unknown = await ask(alice, "send_message", { receiverId: u(424242), content: "anyone?" });
      assert.deepEqual([unknown.success, unknown.code], [false, "not_found"]);
    });

    test("a third user cannot join someone else's conversation and hears nothing of it", async () => {
      const theirs = await conversationOf(u(1), u(2), "between alice and bob");
      const carol = await client(u(3), transports);
      const errors = next(carol, "error");
      const refused = await ask(carol, "join_conversation", { conversationId: theirs });
      assert.deepEqual([refused.success, refused.message], [false, "Conversation not found"]);
      assert.equal((await errors).message, "Conversation not found");
      const typing = await ask(carol, "typing", { conversationId: theirs });
      assert.equal(typing.success, false);

      // Carol's own conversation carries a marker sent after the message she must not see:
      // each socket's events arrive in order, so the marker arriving first proves absence.
      const own = await conversationOf(u(4), u(3), "carol's own");
      await ask(carol, "join_conversation", { conversationId: own });
      const seen = next(carol, "new_message");
      await rest(u(1), "POST", "/api/chat/send", { receiverId: u(2), content: "private to bob" });
      await rest(u(4), "POST", "/api/chat/send", { receiverId: u(3), content: "marker" });
      assert.equal((await seen).content, "marker");
    });

    test("presence reaches the people who share a conversation, not strangers", async () => {
      const shared = await conversationOf(u(9), u(10), "we know each other");
      const stranger = await conversationOf(u(7), u(8), "the stranger's own");
      const bob = await client(u(10), transports);
      const carol = await client(u(8), transports);
      await ask(carol, "join_conversation", { conversationId: stranger });
      const carolSees = new Promise((resolve) => {
        carol.once("user_online", () => resolve("user_online"));
        carol.once("new_message", () => resolve("new_message"));
      });

      const online = next(bob, "user_online");
      const alice = await client(u(9), transports);
      assert.deepEqual(await online, { userId: u(9) });
      // Carol's next event is a message sent after Alice came online: had she been told of
      // Alice, that would have come first.
      await rest(u(7), "POST", "/api/chat/send", { receiverId: u(8), content: "marker" });
      assert.equal(await carolSees, "new_message");

      const offline = next(bob, "user_offline");
      alice.close();
      assert.deepEqual(await offline, { userId: u(9) });
      assert.ok(shared > 0);
    });

    test("a burst of 200 sends arrives complete and in order", async () => {
      const conversation = await conversationOf(u(1), u(2), "before the burst");
      const alice = await client(u(1), transports);
      const bob = await client(u(2), transports);
      await ask(bob, "join_conversation", { conversationId: conversation });
      const arrived = collect(bob, "new_message", 200);
      const acks = [];
      for (let i = 0; i < 200; i++) acks.push(ask(alice, "send_message", { receiverId: u(2), content: `burst ${i}` }, 20000));
      for (const ack of await Promise.all(acks)) assert.equal(ack.success, true);
      const messages = await arrived;
      assert.deepEqual(messages.map((m) => m.content), [...Array(200).keys()].map((i) => `burst ${i}`));
      const seqs = messages.map((m) => m.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    });

    test("four senders into one conversation: every socket sees the same order, equal to seq", async () => {
      const conversation = await conversationOf(u(5), u(6), "before the crowd");
      const sockets = [];
      for (const id of [5, 5, 6, 6]) sockets.push(await client(u(id), transports));
      for (const socket of sockets) await ask(socket, "join_conversation", { conversationId: conversation });
      const arrivals = sockets.map((socket) => collect(socket, "new_message", 400));
      const sends = sockets.flatMap((socket, n) =>
        [...Array(100).keys()].map((i) =>
          ask(socket, "send_message", { receiverId: n < 2 ? u(6) : u(5), content: `s${n}-${i}` }, 20000),
        ),
      );
      for (const ack of await Promise.all(sends)) assert.equal(ack.success, true);
      const seen = await Promise.all(arrivals);
      const order = seen[0].map((m) => m.seq);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), "in seq order");
      assert.equal(new Set(order).size, 400);
      for (const other of seen.slice(1)) assert.deepEqual(other.map((m) => m.seq), order);
    });
  });
}
