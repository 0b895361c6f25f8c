// What real clients send that a strict decoder chokes on, with the real socket.io-client: a
// string cut inside an emoji (a lone UTF-16 surrogate in the JSON) and Buffers beside the text.
// Users 1 and 2 already share a conversation (the Rust driver sets it up).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { TRANSPORTS, ask, clientsClosedAfterEach, next } from "./helpers.mjs";

const client = clientsClosedAfterEach();

for (const { name, transports } of TRANSPORTS) {
  describe(`inputs of real clients over ${name}`, () => {
    test("a string cut inside an emoji is refused with an ack and an error event, and the connection stays", async () => {
      const alice = await client(1, transports);
      const cut = "Let's meet 😀".slice(0, 12);
      assert.equal(cut.charCodeAt(11), 0xd83d, "a lone high surrogate");
      const error = next(alice, "error");
      const ack = await ask(alice, "send_message", { receiverId: 2, content: cut });
      assert.equal(ack.success, false, JSON.stringify(ack));
      assert.equal(ack.code, "invalid_input");
      assert.match(ack.message, /surrogate/);
      const event = await error;
      assert.equal(event.code, "invalid_input");
      assert.equal(event.event, "send_message");
      assert.equal(alice.connected, true);
      const whole = await ask(alice, "send_message", { receiverId: 2, content: "Let's meet 😀" });
      assert.equal(whole.success, true, JSON.stringify(whole));
      assert.equal(whole.data.content, "Let's meet 😀");
    });

    test("send_message with a Buffer beside its text is sent", async () => {
      const alice = await client(1, transports);
      const thumb = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]);
      const ack = await ask(alice, "send_message", { receiverId: 2, content: "with a thumbnail", thumb });
      assert.equal(ack.success, true, JSON.stringify(ack));
      assert.equal(ack.data.content, "with a thumbnail");
    });

    test("a text field sent as a Buffer is refused naming the field", async () => {
      const alice = await client(1, transports);
      const ack = await ask(alice, "send_message", { receiverId: 2, content: Buffer.from("hi") });
      assert.equal(ack.success, false, JSON.stringify(ack));
      assert.equal(ack.code, "invalid_input");
      assert.equal(ack.field, "content");
      assert.match(ack.message, /binary/);
      assert.equal(alice.connected, true);
    });
  });
}
