// Drive the real, unmodified @sentry/node's streams other than errors against a server; run as a child process by
// ingest/tests/test_live_node_streams.py:
//
//     NODE_PATH=<dir with node_modules/@sentry/node> node node_streams_client.js <dsn> <scenario>
//
// sessions: release health as a server sends it (each incoming HTTP request a session, aggregated into a `sessions`
//           item on flush: two fine requests, one that captures an error), plus one process session (a CLI run)
//           that ends crashed by an unhandled error;
// checkins: Sentry.withMonitor around one run that succeeds and one that throws (crontab schedule), and one
//           Sentry.captureCheckIn of an interval monitor;
// logs:     Sentry.logger with a template (logger.fmt) and attributes, at two levels;
// quota:    three batches of logs against a log quota, then a check-in (the SDK backs off from logs alone).
// Prints `RESULT {"sdk_version": ..., "flushed": ...}` once the SDK has flushed and closed.
"use strict";

const Sentry = require("@sentry/node");

const RELEASE = "shop-node@1.0.0";
const NIGHTLY = {
  schedule: { type: "crontab", value: "0 3 * * *" },
  timezone: "Europe/Vienna",
  checkinMargin: 10,
  maxRuntime: 60,
  failureIssueThreshold: 1,
  recoveryThreshold: 1,
};

function get(port, path) {
  const http = require("node:http");
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode));
      })
      .on("error", reject);
  });
}

const scenarios = {
  async sessions() {
    const http = require("node:http");
    const server = http.createServer((request, response) => {
      if (request.url === "/pay") {
        Sentry.captureException(new Error("payment declined"));
        response.statusCode = 500;
      }
      response.end("done");
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address();
    const statuses = [];
    for (const path of ["/", "/cart", "/pay"]) {
      statuses.push(await get(port, path));
    }
    await new Promise((resolve) => server.close(resolve));

    // a command-line run's own session, ended by an unhandled error
    Sentry.startSession();
    Sentry.captureException(new Error("import job crashed"), {
      mechanism: { type: "onuncaughtexception", handled: false },
    });
    await Sentry.flush(5000); // events are processed asynchronously: the session learns of the crash then
    Sentry.endSession();
    return { statuses };
  },

  async checkins() {
    await Sentry.withMonitor("node-nightly", async () => "report written", NIGHTLY);
    // the SDK sends each check-in on its own connection: the first run's are delivered before the second run starts,
    // so that the monitor's state after both is the second run's whatever the order they would have crossed in
    await Sentry.flush(5000);
    try {
      await Sentry.withMonitor(
        "node-nightly",
        async () => {
          throw new Error("the report's database is away");
        },
        NIGHTLY,
      );
    } catch (error) {
      // the job failed; withMonitor sent its error check-in
    }
    Sentry.captureCheckIn(
      { monitorSlug: "node-heartbeat", status: "ok", duration: 1.5 },
      { schedule: { type: "interval", value: 5, unit: "minute" }, checkinMargin: 2, maxRuntime: 3 },
    );
    return {};
  },

  // against a server whose log quota is 2 a minute: the second batch is refused (429 naming log_item), the SDK
  // then drops the third itself; a check-in after that is sent and kept all the same
  async quota() {
    const statuses = [];
    for (const batch of ["first", "second", "third"]) {
      Sentry.logger.info(`${batch} batch, one`);
      Sentry.logger.info(`${batch} batch, two`);
      statuses.push(await Sentry.flush(5000));
    }
    Sentry.captureCheckIn(
      { monitorSlug: "after-logs", status: "ok" },
      { schedule: { type: "crontab", value: "0 * * * *" } },
    );
    return { statuses };
  },

  async logs() {
    const orderId = 4711;
    const user = "ada";
    Sentry.logger.info(Sentry.logger.fmt`Order ${orderId} paid by ${user}`, { "shop.region": "eu-1" });
    Sentry.logger.warn("payment provider slow", { provider: "acme", latency_ms: 950 });
    return {};
  },
};

async function main() {
  const [dsn, name] = process.argv.slice(2);
  if (!dsn || !(name in scenarios)) {
    console.error(`usage: node node_streams_client.js <dsn> <${Object.keys(scenarios).join("|")}>`);
    process.exit(2);
  }
  // enableLogs: needed by 10.x, where logs are off unless asked for; 11.x always sends them (the option is gone)
  Sentry.init({ dsn, release: RELEASE, environment: "production", debug: true, enableLogs: true });
  const details = await scenarios[name]();
  const flushed = await Sentry.flush(5000);
  await Sentry.close(5000);
  console.log("RESULT " + JSON.stringify({ sdk_version: Sentry.SDK_VERSION, flushed, ...details }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
