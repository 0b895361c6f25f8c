// Replies and forwards with the real socket.io-client: `send_message` with `replyToId` is
// acknowledged with the record's `reply_to`, the room gets `new_message` with it, a bad
// `replyToId` is refused naming the field, a socket that was away while a reply was sent and
// its parent deleted recovers both in order, the reply showing its parent as deleted (never
// its text), a forwarded copy reaches its room with `forwarded_from`, and a mentioned member
// whose socket is not in the room gets `mention`, live and on recovery. Users 41..44 are this
// file's own (two per transport).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, connect, next, rest } from "./helpers.mjs";

const client = clientsClosedAfterEach();

TRANSPORTS.forEach(({ name, transports }, index) => {
  const [alice, bob] = [41 + 2 * index, 42 + 2 * index];

  describe(`replies over ${name}`, () => {
    test("a reply over the socket is acknowledged and reaches the room with reply_to", async () => {
      const parent = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "lunch? 🍜" })).body.data;
      const [aliceSocket, bobSocket] = await Promise.all([client(alice, transports), client(bob, transports)]);
      await ask(bobSocket, "join_conversation", { conversationId: parent.conversation_id });
      const live = next(bobSocket, "new_message");
      const ack = await ask(aliceSocket, "send_message", {
        conversationId: parent.conversation_id,
        content: "noon works",
        replyToId: parent.id,
      });
      assert.equal(ack.success, true, JSON.stringify(ack));
      const quoted = { id: parent.id, sender: { id: alice, username: `user${alice}` }, excerpt: "lunch? 🍜", deleted: false };
      assert.deepEqual(ack.data.reply_to, quoted);
      const seen = await live;
      assert.deepEqual([seen.id, seen.reply_to], [ack.data.id, quoted]);
      // A message of no conversation of the sender's is refused, naming the field.
      const refused = await ask(aliceSocket, "send_message", { receiverId: bob, content: "x", replyToId: 987654321 });
      assert.equal(refused.success, false, JSON.stringify(refused));
      assert.deepEqual([refused.code, refused.field], ["invalid_input", "replyToId"]);
      const thread = await rest(bob, "GET", `/api/chat/messages/${parent.id}/replies`);
      assert.deepEqual(thread.body.data.messages.map((m) => m.content), ["noon works"]);
    });

    test("a socket away while a reply is sent and its parent deleted recovers both, in order", async () => {
      const parent = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "secret plan" })).body.data;
      const socket = await connect(bob, transports, { reconnection: true, reconnectionDelay: 300 });
      try {
        await ask(socket, "join_conversation", { conversationId: parent.conversation_id });
        const seen = [];
        socket.onAny((event, payload) => {
          if (["new_message", "message_deleted"].includes(event)) seen.push([event, payload]);
        });
        const recovered = new Promise((resolve) => socket.once("connect", () => resolve(socket.recovered)));
        socket.io.engine.close();
        const reply = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "see above", replyToId: parent.id });
        assert.equal(reply.status, 201, JSON.stringify(reply.body));
        assert.equal((await rest(alice, "DELETE", `/api/chat/messages/${parent.id}`)).status, 200);
        assert.equal(await recovered, true, "socket.recovered");
        const deadline = Date.now() + 10000;
        while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(
          seen.map(([event, payload]) => [event, payload.id ?? payload.messageId]),
          [["new_message", reply.body.data.id], ["message_deleted", parent.id]],
          JSON.stringify(seen),
        );
        assert.deepEqual(seen[0][1].reply_to, {
          id: parent.id,
          sender: { id: alice, username: `user${alice}` },
          excerpt: null,
          deleted: true,
        });
        assert.ok(!JSON.stringify(seen).includes("secret"), "nothing of the deleted parent's text");
      } finally {
        socket.close();
      }
    });

    test("a forwarded copy reaches its room with forwarded_from", async () => {
      const original = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "pass it on" })).body.data;
      const group = await rest(bob, "POST", "/api/chat/groups", { title: `forwards ${name}`, memberIds: [alice] });
      assert.equal(group.status, 201, JSON.stringify(group.body));
      const aliceSocket = await client(alice, transports);
      await ask(aliceSocket, "join_conversation", { conversationId: group.body.data.id });
      const live = next(aliceSocket, "new_message");
      const forwarded = await rest(bob, "POST", `/api/chat/messages/${original.id}/forward`, { conversationIds: [group.body.data.id] });
      assert.equal(forwarded.status, 201, JSON.stringify(forwarded.body));
      const seen = await live;
      assert.deepEqual(
        [seen.id, seen.conversation_id, seen.sender_id, seen.content, seen.forwarded_from],
        [forwarded.body.data[0].id, group.body.data.id, bob, "pass it on",
          { messageId: original.id, conversationId: original.conversation_id, senderId: alice }],
      );
    });
  });
});

TRANSPORTS.forEach(({ name, transports }, index) => {
  const [alice, bob] = [41 + 2 * index, 42 + 2 * index];

  describe(`mentions over ${name}`, () => {
    test("a member mentioned outside the room gets mention, live", async () => {
      const bobSocket = await client(bob, transports);
      const mention = next(bobSocket, "mention");
      const sent = await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: `@USER${bob} are you there?` });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.deepEqual(sent.body.data.mentions, [bob]);
      const seen = await mention;
      assert.deepEqual(
        [seen.conversationId, seen.senderId, seen.message.id, seen.message.mentions],
        [sent.body.data.conversation_id, alice, sent.body.data.id, [bob]],
      );
    });

    test("a socket away while it is mentioned recovers the notification and the mention", async () => {
      const socket = await connect(bob, transports, { reconnection: true, reconnectionDelay: 300 });
      try {
        const seen = [];
        socket.onAny((event, payload) => {
          if (["message_notification", "mention"].includes(event)) seen.push([event, payload.message.id]);
        });
        const recovered = new Promise((resolve) => socket.once("connect", () => resolve(socket.recovered)));
        socket.io.engine.close();
        const plain = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: "no name" })).body.data;
        const named = (await rest(alice, "POST", "/api/chat/send", { receiverId: bob, content: `ping @user${bob}` })).body.data;
        assert.equal(await recovered, true, "socket.recovered");
        const deadline = Date.now() + 10000;
        while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(seen, [["message_notification", plain.id], ["message_notification", named.id], ["mention", named.id]]);
      } finally {
        socket.close();
      }
    });
  });
});
