// Throw from a built (bundled, minified, debug-id injected) app under the real, unmodified @sentry/node; run as a
// child process by test_symbolicate_live.py.
//
//     NODE_PATH=<dir with node_modules/@sentry/node> node node_bundle_client.js <dsn> <bundle path> <release>
//
// The bundle's checkout("{}") throws; the SDK captures it, flushes and closes, and one line
// `RESULT {"sdk_version": ..., "flushed": ..., "event_ids": [...]}` goes to stdout.
"use strict";

const Sentry = require("@sentry/node");

async function main() {
  const [dsn, bundle, release] = process.argv.slice(2);
  if (!dsn || !bundle || !release) {
    console.error("usage: node node_bundle_client.js <dsn> <bundle path> <release>");
    process.exit(2);
  }
  Sentry.init({ dsn, release, environment: "ci" });
  let eventId = null;
  try {
    require(bundle).checkout("{}");
  } catch (error) {
    eventId = Sentry.captureException(error);
  }
  const flushed = await Sentry.flush(5000);
  await Sentry.close(5000);
  console.log("RESULT " + JSON.stringify({ sdk_version: Sentry.SDK_VERSION, flushed, event_ids: [eventId] }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
