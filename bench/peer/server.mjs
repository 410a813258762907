// The peer measured beside seatflow (bench/peer.py, `python -m bench.receiver --targets
// peer`): @supabase/stripe-sync-engine's webhook handler, which verifies the delivery and
// upserts the event's object into PostgreSQL inside the request, answering after the write.
// Node's cluster runs WORKERS processes on one port, as gunicorn runs its workers; the
// primary runs the engine's migrations first. Listens on 127.0.0.1 only.
import cluster from "node:cluster";
import http from "node:http";
import { createRequire } from "node:module";

// The CommonJS build: the ES module build looks for its migrations in the current folder.
const { runMigrations, StripeSync } = createRequire(import.meta.url)(
  "@supabase/stripe-sync-engine",
);

const env = process.env;
const workers = Number(env.WORKERS || "2");

if (cluster.isPrimary) {
  // runMigrations reports a failure only to its logger: a failed migration stops the peer.
  let failed = false;
  const logger = {
    info: () => {},
    debug: () => {},
    warn: (...args) => console.warn(...args),
    error: (...args) => {
      failed = true;
      console.error(...args);
    },
  };
  await runMigrations({ databaseUrl: env.DATABASE_URL, schema: "stripe", logger });
  if (failed) process.exit(1);
  for (let i = 0; i < workers; i++) cluster.fork();
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) worker.kill("SIGTERM");
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  const sync = new StripeSync({
    poolConfig: { connectionString: env.DATABASE_URL, max: Number(env.POOL_MAX || "10") },
    stripeSecretKey: "sk_test_bench_never_called",
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET,
    // No Stripe API call: objects are taken from the event, related ones are not fetched.
    backfillRelatedEntities: false,
    autoExpandLists: false,
  });
  const server = http.createServer(async (req, res) => {
    if (req.method === "GET" && req.url === "/healthz") {
      res.end("ok");
      return;
    }
    if (req.method !== "POST" || req.url !== "/webhooks/stripe") {
      res.statusCode = 404;
      res.end();
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    try {
      await sync.processWebhook(Buffer.concat(chunks), req.headers["stripe-signature"]);
      res.setHeader("Content-Type", "application/json");
      res.end('{"received":true}');
    } catch (err) {
      res.statusCode = 400;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ error: String(err && err.message) }));
    }
  });
  server.keepAliveTimeout = 75_000;
  server.listen(Number(env.PORT), "127.0.0.1");
}
