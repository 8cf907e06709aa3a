// A small stand-in for a training job: it idles, then keeps one core busy in a child
// process and one in itself, marking phases in the file wattprint names in WATTPRINT_MARKS.
// Run it with: npx wattprint track -- node examples/busy.js [seconds]
import { appendFileSync } from "node:fs";
import { spawn } from "node:child_process";

const seconds = Number(process.argv[2] ?? 3);

function mark(phase, event) {
  if (process.env.WATTPRINT_MARKS) {
    appendFileSync(
      process.env.WATTPRINT_MARKS,
      `${JSON.stringify({ phase, event, time: Date.now() / 1000 })}\n`,
    );
  }
}

function spin(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}

mark("load data", "start");
await new Promise((resolve) => setTimeout(resolve, 500));
mark("load data", "end");

mark("train", "start");
const worker = spawn(
  process.execPath,
  [
    "-e",
    `const e=Date.now()+${Math.round(seconds * 1000)};let x=0;while(Date.now()<e)x+=Math.sqrt(x+1);`,
  ],
  {
    stdio: "inherit",
  },
);
spin(seconds * 1000);
await new Promise((resolve) => worker.on("exit", resolve));
mark("train", "end");
console.log(`busy.js: done after ${seconds} s of work on 2 processes`);
