// The stack of the error that a module's exported function throws, with its frames as @sentry/node reports them
// (file, function as V8 names it, line, column; outermost first). test_symbolicate.py builds events from it.
//
//     node stack_of.js <module path> <export name> <argument>
//
// Prints one line `RESULT {"type": ..., "value": ..., "frames": [...]}`.
"use strict";

const [modulePath, name, argument] = process.argv.slice(2);
const frameLine = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

try {
  require(modulePath)[name](argument);
  console.log("RESULT null");
} catch (error) {
  const frames = [];
  for (const line of String(error.stack).split("\n").slice(1)) {
    const match = frameLine.exec(line);
    if (match) {
      frames.push({ function: match[1] || "?", filename: match[2], lineno: +match[3], colno: +match[4] });
    }
  }
  frames.reverse();
  console.log("RESULT " + JSON.stringify({ type: error.name, value: error.message, frames }));
}
