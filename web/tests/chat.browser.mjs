// Two people use the web app in headless Chromium: they sign up, chat both ways, see typing
// and read receipts, scroll back through history, make a group and add a member; one of
// them loses the network while the other writes, and after reconnecting shows every message
// once, in order. Also: the Node server's page snippet (`<script src="/socket.io/socket.io.js">`
// then an inline `io(...)`) works unchanged.
//
// Run by crates/chat-server/tests/web.rs with SERVER_URL (a fresh server) and CHROMIUM (the
// browser's path); SCREENSHOTS=<dir> also writes the README's screenshots there.

import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { chromium } from "playwright-core";

const SERVER_URL = process.env.SERVER_URL;
const SCREENSHOTS = process.env.SCREENSHOTS;
const PASSWORD = "correct horse battery";
const TIMEOUT_MS = 20_000;

// A TCP proxy in front of the server that can cut every connection through it and refuse
// new ones, as a lost network does.
async function cuttableProxy(target) {
  const { hostname, port } = new URL(target);
  const open = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(Number(port), hostname);
    for (const [from, to] of [[client, upstream], [upstream, client]]) {
      open.add(from);
      from.pipe(to);
      from.on("error", () => {});
      from.on("close", () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// A page whose console errors and uncaught exceptions (a CSP refusal among them) fail the run.
async function openApp(browser, url, problems) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  page.on("pageerror", (error) => problems.push(`${url}: ${error.message}`));
  page.on("console", (message) => {
    // A failed request while the network is cut is expected; anything else is not.
    if (message.type() === "error" && !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|Failed to load resource/.test(message.text())) {
      problems.push(`${url}: ${message.text()}`);
    }
  });
  await page.goto(url);
  return { context, page };
}

async function signUp(page, username) {
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", PASSWORD);
  await page.click("button[value=register]");
  await page.waitForSelector("#chat:not([hidden])");
  assert.equal(await page.textContent("#me-name"), username);
}

// The texts of the open conversation's settled messages, top to bottom.
const texts = (page) => page.$$eval("#messages .message:not(.pending) .text", (nodes) => nodes.map((n) => n.textContent));

// Waits until the open conversation shows the end of `expected` (at least `atLeast`
// messages; all of them by default), each once, in order, and nothing else.
async function waitForTexts(page, expected, atLeast = expected.length) {
  await page.waitForFunction(
    ([want, atLeast]) => {
      const got = [...document.querySelectorAll("#messages .message:not(.pending) .text")].map((n) => n.textContent);
      const tail = want.slice(want.length - got.length);
      return got.length >= atLeast && got.length <= want.length && got.every((t, i) => t === tail[i]);
    },
    [expected, atLeast],
  ).catch(async (error) => {
    assert.deepEqual(await texts(page), expected.slice(-atLeast), error.message);
  });
}

const item = (page, name) => page.locator(".conversation-item", { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) });

async function badge(page, name, count) {
  await item(page, name)
    .locator(".badge", { hasText: new RegExp(`^${count}$`) })
    .waitFor()
    .catch(async (error) => {
      const list = await page.$$eval(".conversation-item", (items) => items.map((i) => i.innerText.replace(/\s+/g, " ")));
      assert.fail(`${name} has no badge ${count}: ${JSON.stringify(list)}\n${error.message}`);
    });
}

async function send(page, text) {
  await page.fill("#draft", text);
  await page.press("#draft", "Enter");
}

async function pickPeople(page, button, search, usernames) {
  await page.click(button);
  for (const username of usernames) {
    await page.fill("#people-search", search ?? username);
    await page.click(`#people .person[data-username="${username}"]`);
  }
}

// REST with the page's own token, for setting up what would take a person long to type.
function rest(page, method, url, body) {
  return page.evaluate(
    async ([method, url, body]) => {
      const response = await fetch(url, {
        method,
        headers: { Authorization: `Bearer ${localStorage.getItem("chat.token")}`, "Content-Type": "application/json" },
        body: body && JSON.stringify(body),
      });
      return (await response.json()).data;
    },
    [method, url, body],
  );
}

async function screenshot(page, name) {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, name) });
}

const problems = [];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM });
const proxy = await cuttableProxy(SERVER_URL);
try {
  // Bob reaches the server through the proxy, so that his network can be cut.
  const alice = await openApp(browser, SERVER_URL, problems);
  const bob = await openApp(browser, proxy.url, problems);
  await signUp(alice.page, "alice");
  await signUp(bob.page, "bob");

  // History to scroll back through: 40 messages from Alice before Bob opens the conversation.
  const { users } = await rest(alice.page, "GET", "/api/users?search=bob");
  const bobId = users[0].id;
  const history = Array.from({ length: 40 }, (_, i) => `Earlier message ${i + 1}`);
  for (const content of history) await rest(alice.page, "POST", "/api/chat/send", { receiverId: bobId, content });

  // Alice finds Bob and writes; Bob's list shows the conversation with its unread badge.
  await pickPeople(alice.page, "#new-chat", "bo", ["bob"]);
  await alice.page.waitForSelector("#composer:not([hidden])");
  await send(alice.page, "Hi Bob! Got a minute?");
  const expected = [...history, "Hi Bob! Got a minute?"];
  await alice.page.locator(".message.mine .receipt", { hasText: "Sent" }).last().waitFor();
  await badge(bob.page, "alice", 41);

  // Bob opens it: the newest page, then older pages as he scrolls up, each message once.
  await item(bob.page, "alice").click();
  await bob.page.locator("#messages .text", { hasText: "Hi Bob!" }).waitFor();
  assert.ok((await texts(bob.page)).length < expected.length, "the first page is not the whole history");
  for (let i = 0; i < 5 && (await texts(bob.page)).length < expected.length; i++) {
    await bob.page.$eval("#messages", (list) => list.scrollTo(0, 0));
    await bob.page.waitForTimeout(300); // the scroll event, then the page request
  }
  await waitForTexts(bob.page, expected);
  await item(bob.page, "alice").locator(".badge").waitFor({ state: "detached" });

  // Read receipt: Alice sees that Bob read her message.
  await alice.page.locator(".message.mine .receipt", { hasText: "Read" }).last().waitFor();

  // Typing, then an answer.
  await bob.page.fill("#draft", "");
  await bob.page.type("#draft", "Hello Al");
  await alice.page.locator("#typing", { hasText: "bob is typing…" }).waitFor();
  await bob.page.type("#draft", "ice!");
  await bob.page.press("#draft", "Enter");
  expected.push("Hello Alice!");
  await waitForTexts(alice.page, expected, 2);
  await alice.page.locator("#typing", { hasText: /^$/ }).waitFor();

  // Bob's network goes: the app says so. Alice writes meanwhile, and Bob writes too (his
  // message waits in the client until the connection is back).
  await bob.context.setOffline(true);
  proxy.cut();
  await bob.page.waitForSelector("#connection:not([hidden])");
  const whileAway = ["Are you there?", "I'll keep writing", "See you when you're back"];
  for (const text of whileAway) await send(alice.page, text);
  await send(bob.page, "Written offline");
  await alice.page.locator("#messages .text", { hasText: "See you when you're back" }).waitFor();

  // Back online: everything Alice wrote arrives, once each, in order, without a reload.
  proxy.restore();
  await bob.context.setOffline(false);
  await bob.page.waitForSelector("#connection[hidden]", { state: "attached" });
  const afterwards = [...expected, ...whileAway, "Written offline"];
  await waitForTexts(bob.page, afterwards);
  await waitForTexts(alice.page, afterwards, 6);
  assert.equal(
    (await texts(alice.page)).filter((t) => t === "Written offline").length,
    1,
    "the message written offline arrives once",
  );
  await bob.page.type("#draft", "Sorry, I was in a tunnel");
  await alice.page.locator("#typing", { hasText: "bob is typing…" }).waitFor();
  await alice.page.locator(".message.mine .receipt", { hasText: "Read" }).last().waitFor();
  await screenshot(alice.page, "web-app-chat.png");
  await bob.page.press("#draft", "Enter");
  afterwards.push("Sorry, I was in a tunnel");
  await waitForTexts(alice.page, afterwards, 7);

  // A group: Alice makes one with Bob; it appears in Bob's list, her message counts as unread
  // there; then she adds Carol.
  await item(bob.page, "alice").click();
  await pickPeople(alice.page, "#new-group", null, []);
  await alice.page.fill("#group-title", "Launch team");
  await alice.page.fill("#people-search", "bob");
  await alice.page.click('#people .person[data-username="bob"]');
  await alice.page.click("#picker-done");
  await alice.page.locator("#title", { hasText: "Launch team" }).waitFor();
  await send(alice.page, "Kick-off at ten");
  await badge(bob.page, "Launch team", 1);
  await rest(alice.page, "POST", "/api/auth/register", { username: "carol", password: PASSWORD });
  await pickPeople(alice.page, "#add-member", "car", ["carol"]);
  await alice.page.click("#picker-done");
  await alice.page.locator("#members", { hasText: "3 members" }).waitFor();

  // Carol writes to Bob directly: a third conversation, first in his list, with its badge.
  const carol = await alice.context.request.post(`${SERVER_URL}/api/auth/login`, { data: { username: "carol", password: PASSWORD } });
  const carolToken = (await carol.json()).data.token;
  for (const content of ["Welcome aboard!", "Lunch at noon?"]) {
    await alice.context.request.post(`${SERVER_URL}/api/chat/send`, {
      headers: { Authorization: `Bearer ${carolToken}` },
      data: { receiverId: bobId, content },
    });
  }
  await badge(bob.page, "carol", 2);
  await screenshot(bob.page, "web-app-list.png");

  // The Node server's snippet, unchanged, on a page of the server's origin.
  const snippet = await alice.context.newPage();
  const token = await alice.page.evaluate(() => localStorage.getItem("chat.token"));
  await snippet.route(`${SERVER_URL}/snippet.html`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io({ auth: { token: ${JSON.stringify(token)} } });
  socket.on("connect", () => { document.title = "connected"; });
</script>`,
    }),
  );
  await snippet.goto(`${SERVER_URL}/snippet.html`);
  await snippet.waitForFunction(() => document.title === "connected");

  assert.deepEqual(problems, [], "the pages logged no errors");
  console.log("web app: all checks passed");
} finally {
  await browser.close();
  await proxy.close();
}
