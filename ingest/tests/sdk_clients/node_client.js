// Drive the real, unmodified @sentry/node against a server; run as a child process by test_real_sdks.py.
//
//     NODE_PATH=<dir with node_modules/@sentry/node> node node_client.js <dsn> <scenario>
//
// Each scenario captures some events the way an application would, flushes and closes the SDK, and prints one
// line `RESULT {"sdk_version": ..., "event_ids": [...]}` on stdout (the SDK's own debug log goes to the console
// too, so the result line is marked).
"use strict";

const Sentry = require("@sentry/node");

function loadConfig(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error("outer", { cause: new Error("inner") });
  }
}

function failToLoad() {
  try {
    loadConfig("{not json");
  } catch (error) {
    return Sentry.captureException(error);
  }
}

const scenarios = {
  // Two different messages from the same module, with attachStacktrace: each carries a synthetic exception whose
  // stack is this module's top-level code (no function name). Two issues, titled by their messages.
  messages() {
    return [Sentry.captureMessage("cache warm-up skipped"), Sentry.captureMessage("payment provider slow")];
  },
  // An error, then what the user wrote about it (Sentry.captureFeedback: a `feedback` envelope item of its own).
  feedback() {
    const errorId = failToLoad();
    Sentry.captureFeedback({
      message: "Checkout froze after I pressed Pay",
      name: "Grace Hopper",
      email: "grace@example.com",
      associatedEventId: errorId,
    });
    return [errorId];
  },
  // new Error(message, {cause}): the SDK sends [cause, error]; the issue is titled by the error thrown. The same
  // error twice from the same call site, with the message in between: the SDK's Dedupe integration drops an event
  // identical to the one captured just before it.
  mixed() {
    return [failToLoad(), Sentry.captureMessage("hello from node"), failToLoad()];
  },
};

// per-scenario SDK options (the rest: release, environment, debug)
const OPTIONS = { messages: { attachStacktrace: true } };

async function main() {
  const [dsn, name] = process.argv.slice(2);
  if (!dsn || !(name in scenarios)) {
    console.error(`usage: node node_client.js <dsn> <${Object.keys(scenarios).join("|")}>`);
    process.exit(2);
  }
  Sentry.init({ dsn, release: "shop-web@2.0.1", environment: "ci", debug: true, ...(OPTIONS[name] || {}) });
  const eventIds = scenarios[name]();
  const flushed = await Sentry.flush(5000);
  await Sentry.close(5000);
  console.log("RESULT " + JSON.stringify({ sdk_version: Sentry.SDK_VERSION, flushed, event_ids: eventIds }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
