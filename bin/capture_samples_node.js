// The Node scenarios of bin/capture_samples.py: each sends one event to SENTRY_DSN (the local sink) with the tag
// `scenario` set to its name, and prints that name. NODE_PATH must point at a node_modules with @sentry/node.
const Sentry = require("@sentry/node");

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: "shop-api@3.0.2",
  environment: "staging",
  serverName: "capture-host",
  tracesSampleRate: 0,
  includeLocalVariables: true,
});

function renderInvoice(order) {
  const currency = order.currency || "EUR";
  return `${order.customer.name.toUpperCase()} owes ${order.total} ${currency}`;
}

function loadCart(cartId) {
  try {
    return JSON.parse(`{"id": "${cartId}", "items": [`);
  } catch (err) {
    throw new Error(`could not load cart ${cartId}`, { cause: err });
  }
}

async function fetchStock(sku) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  if (sku.startsWith("X")) {
    throw new RangeError(`stock level for ${sku} is out of range: -3`);
  }
  return 7;
}

async function reserveItems(skus) {
  const levels = [];
  for (const sku of skus) {
    levels.push(await fetchStock(sku));
  }
  return levels;
}

const scenarios = {
  "type-error-undefined-property": async () => {
    Sentry.addBreadcrumb({ category: "console", level: "log", message: "rendering invoice 88" });
    Sentry.setUser({ id: "42", email: "bob@example.com" });
    try {
      renderInvoice({ id: 88, total: "17.00" });
    } catch (err) {
      Sentry.captureException(err);
    }
  },
  "error-with-cause": async () => {
    try {
      loadCart("c-551");
    } catch (err) {
      Sentry.captureException(err);
    }
  },
  "async-range-error": async () => {
    Sentry.addBreadcrumb({
      category: "http",
      type: "http",
      data: { method: "GET", url: "http://inventory.internal/stock/TEA-01", status_code: 200 },
    });
    try {
      await reserveItems(["TEA-01", "X-99"]);
    } catch (err) {
      Sentry.captureException(err);
    }
  },
  "non-error-object": async () => {
    Sentry.captureException({ code: "E_QUOTA", detail: "monthly e-mail quota used up" });
  },
  "message-with-extra": async () => {
    Sentry.setExtra("inventory_latency_ms", 2431);
    Sentry.setTag("region", "eu-west-1");
    Sentry.captureMessage("Inventory service answered slowly", "warning");
  },
};

(async () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    await Sentry.withIsolationScope(async (scope) => {
      scope.setTag("scenario", name);
      await scenario();
    });
    await Sentry.flush(5000);
    console.log(name);
  }
  await Sentry.close(5000);
})();
