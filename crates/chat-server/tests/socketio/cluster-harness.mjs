// A cluster of chat-server nodes for cluster.faults.mjs, every piece started by this process so
// that a test can break it: its own redis-server (stopped and started again on the same port),
// a TCP proxy in front of PostgreSQL (refusing and closing connections plays the database going
// down), the nodes (each killable with SIGKILL and started again on its port) and HAProxy in
// front of them. The Rust driver (tests/cluster.rs) passes SERVER_BIN, DATABASE_URL, JWT_SECRET
// and TOKENS.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";

export const TOKENS = JSON.parse(process.env.TOKENS ?? "{}");

/**
 * Every process started here, killed when this one exits however it exits (a test's `after()`
 * stops them in order; this is for a run cut short), and a watchdog that ends a run that
 * outlives every test's own deadline.
 */
const children = new Set();
process.on("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1));
setTimeout(() => {
  process.stderr.write("cluster-harness: the run outlived its 200 s watchdog\n");
  process.exit(1);
}, 200000).unref();

/** `spawn`, remembering the child. */
function started(bin, args, options) {
  const child = spawn(bin, args, options);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Resolves when `check()` (sync or async) holds, checking every `every` ms; rejects after `ms`. */
export async function waitFor(check, ms, what, every = 50) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) {
      throw new Error(`not within ${ms} ms: ${typeof what === "function" ? what() : what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** A loopback port nobody listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `child` has exited (at once if it already has). */
function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
  });
}

/** Sends `signal` to `child` and waits until it is gone. */
async function kill(child, signal) {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await exited(child);
}

/** Resolves with the first stdout line of `child` for which `pick(line)` is not undefined. */
function firstLine(child, pick, ms, what) {
  const lines = readline.createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready`));
    });
    lines.on("line", (line) => {
      const picked = pick(line);
      if (picked !== undefined) {
        clearTimeout(timer);
        resolve(picked);
      }
    });
  });
}

/** The first of `candidates` (absolute paths or names on PATH) that exists. */
function binary(envName, candidates) {
  if (process.env[envName]) return process.env[envName];
  for (const candidate of candidates) {
    if (!candidate.includes("/")) {
      for (const dir of (process.env.PATH ?? "").split(":")) {
        if (dir && existsSync(path.join(dir, candidate))) return path.join(dir, candidate);
      }
    } else if (existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error(`${candidates[0]} not found: install it or set ${envName}`);
}

/**
 * A redis-server of our own on a free loopback port (never the machine's 6379), without
 * persistence, in a temporary directory; `stop()` kills it, `start()` starts it again on the
 * same port.
 */
export async function startRedis() {
  const bin = binary("CHAT_TEST_REDIS_SERVER", ["redis-server"]);
  const dir = mkdtempSync(path.join(tmpdir(), "chat-redis-"));
  const port = await freePort();
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}/`,
    child: null,
    async start() {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      const child = started(bin, args, { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
      redis.child = child;
      await firstLine(child, (line) => (line.includes("Ready to accept connections") ? true : undefined), 10000, "redis-server");
      child.stdout.resume();
    },
    async stop() {
      if (redis.child) await kill(redis.child, "SIGKILL");
      redis.child = null;
    },
    async close() {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/**
 * A TCP proxy in front of PostgreSQL. The nodes reach the database only through it, so that
 * `down()` (refuse new connections and close every open one) is PostgreSQL stopping as the
 * nodes see it, and `up()` is PostgreSQL back: the database itself is shared with the other
 * tests, so it is not stopped for real.
 */
export async function startDatabaseProxy(databaseUrl) {
  const url = new URL(databaseUrl);
  const upstream = { host: url.hostname, port: Number(url.port || 5432) };
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) return client.destroy();
    const database = net.connect(upstream.port, upstream.host);
    const pair = { client, database };
    pairs.add(pair);
    client.pipe(database);
    database.pipe(client);
    const forget = () => {
      pairs.delete(pair);
      client.destroy();
      database.destroy();
    };
    for (const side of [client, database]) {
      side.on("error", forget);
      side.on("close", forget);
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(databaseUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(server.address().port);
  return {
    url: proxied.toString(),
    down() {
      refusing = true;
      for (const { client, database } of pairs) {
        client.destroy();
        database.destroy();
      }
      pairs.clear();
    },
    up() {
      refusing = false;
    },
    close() {
      this.down();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A chat-server node named `name` over `databaseUrl` with `redisUrl`, on `port` (0: any),
 * with the environment recovery.restart.mjs gives its server plus the cluster's variables.
 */
export async function startNode(name, { databaseUrl, redisUrl, port = 0, extraEnv = {} }) {
  const child = started(process.env.SERVER_BIN, [], {
    env: {
      DATABASE_URL: databaseUrl,
      JWT_SECRET: process.env.JWT_SECRET,
      REDIS_URL: redisUrl,
      PORT: String(port),
      CHAT_HOST: "127.0.0.1",
      CHAT_WORKERS: "1",
      CHAT_DB_POOL_SIZE: "6",
      CHAT_DB_ACQUIRE_TIMEOUT_MS: "1000",
      CHAT_PRESENCE_TTL_SECS: "2",
      CHAT_TRUSTED_PROXIES: "127.0.0.1",
      LOG_FORMAT: "json",
      RUST_LOG: process.env.RUST_LOG ?? "info",
      CHAT_SEND_RATE_PER_SEC: "10000",
      CHAT_SEND_BURST: "10000",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Its log, prefixed with its name, on our stderr: a failing run shows what each node said.
  const prefix = `[${name}] `;
  const echo = (line) => process.stderr.write(prefix + line + "\n");
  readline.createInterface({ input: child.stderr }).on("line", echo);
  readline.createInterface({ input: child.stdout }).on("line", echo);
  const listening = await firstLine(
    child,
    (line) => {
      try {
        const event = JSON.parse(line);
        if (event.message === "chat-server listening") return event.port;
      } catch {
        // not a log line of ours
      }
      return undefined;
    },
    30000,
    `node ${name}`,
  );
  const node = {
    name,
    port: listening,
    url: `http://127.0.0.1:${listening}`,
    child,
    /** SIGKILL: the node dies without a word to anyone. */
    kill: () => kill(child, "SIGKILL"),
    stop: () => kill(child, "SIGTERM"),
  };
  return node;
}

/**
 * HAProxy in front of `nodes`: round robin, sticky by the CHATNODE cookie it inserts, each node
 * checked on /readyz every 500 ms (down after two failures, up after one success), requests
 * to a node that is down retried on another one.
 */
export async function startBalancer(nodes) {
  const bin = binary("CHAT_TEST_HAPROXY", ["haproxy", "/usr/sbin/haproxy"]);
  const dir = mkdtempSync(path.join(tmpdir(), "chat-haproxy-"));
  const port = await freePort();
  const config = [
    "global",
    "  maxconn 4096",
    "defaults",
    "  mode http",
    "  option redispatch",
    "  retries 3",
    "  timeout connect 2s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout tunnel 1h",
    "frontend chat",
    `  bind 127.0.0.1:${port}`,
    "  option forwardfor",
    "  default_backend nodes",
    "backend nodes",
    "  balance roundrobin",
    "  cookie CHATNODE insert indirect nocache",
    "  option httpchk GET /readyz",
    ...nodes.map((node) => `  server ${node.name} 127.0.0.1:${node.port} cookie ${node.name} check inter 500ms fall 2 rise 1`),
    // As deploy/haproxy.cfg: when no node is ready (Redis down), every node serves anyway.
    "  option allbackups",
    ...nodes.map((node) => `  server ${node.name}-unready 127.0.0.1:${node.port} backup cookie ${node.name}`),
    "",
  ].join("\n");
  const file = path.join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const child = started(bin, ["-f", file, "-db"], { cwd: dir, stdio: ["ignore", "inherit", "inherit"] });
  const balancer = {
    url: `http://127.0.0.1:${port}`,
    child,
    async close() {
      await kill(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  let failure = null;
  child.once("exit", (code, signal) => {
    failure = new Error(`haproxy exited (${code ?? signal})`);
  });
  await waitFor(
    async () => {
      if (failure) throw failure;
      try {
        const response = await fetch(`${balancer.url}/readyz`, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        return response.status === 200;
      } catch {
        return false;
      }
    },
    15000,
    "the balancer answers /readyz with 200",
  );
  return balancer;
}
