// A process tree for the tracker benchmark: the root plus N-1 children, each waking every
// 200 ms to do ~10 ms of work, for a given time. Usage: node bench/workload.js 20 30
import { spawn } from "node:child_process";

const [processes = "20", seconds = "30", role = "root"] = process.argv.slice(2);
const endMs = Date.now() + Number(seconds) * 1000;

function dutyCycle() {
  const tick = setInterval(() => {
    const stop = Date.now() + 10;
    let x = 0;
    while (Date.now() < stop) x += Math.sqrt(x + 1);
    if (Date.now() >= endMs) clearInterval(tick);
  }, 200);
}

if (role === "root") {
  const children = [];
  for (let i = 1; i < Number(processes); i++) {
    children.push(
      spawn(process.execPath, [process.argv[1], processes, seconds, "child"], { stdio: "inherit" }),
    );
  }
  dutyCycle();
  await Promise.all(children.map((c) => new Promise((resolve) => c.on("exit", resolve))));
} else {
  dutyCycle();
}
