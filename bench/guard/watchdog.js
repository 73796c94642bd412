// The watchdog of a run (bench/guard/guard.ts starts it): a process of its own session whose standard input is
// a pipe from the run. The run names on it, one JSON object a line, each process it starts (`{"pid": N}`) and
// each temporary folder (`{"dir": "/tmp/…"}`). When the run ends in any way, SIGKILL included, the pipe closes;
// the watchdog then kills whatever of those processes still runs, with every process below it (nginx's
// workers outlive their master), and removes the folders. Plain JavaScript run by node directly: it must
// start without the bundle, and stay small.
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/** pid → start time in clock ticks since boot (field 22 of /proc/<pid>/stat): a pid with another start time is another process. */
const processes = new Map();
const dirs = new Set();

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is parenthesised and may hold spaces: count the fields after its closing parenthesis.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return null;
  }
}

/** Every process below the given ones, from one pass over /proc. */
function descendants(roots) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s === null) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(entry));
    children.set(s.ppid, list);
  }
  const found = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift();
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function cleanUp() {
  const alive = [...processes].filter(([pid, start]) => stat(pid)?.start === start).map(([pid]) => pid);
  // The whole tree is listed before anything is killed: a killed master's workers are reparented at once.
  for (const pid of [...alive, ...descendants(alive)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// The terminal's Ctrl-C and a SIGTERM are for the run, which stops its children itself; the watchdog waits for
// the pipe to close.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => undefined);

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop();
  for (const line of lines) {
    if (line === '') continue;
    const message = JSON.parse(line);
    if (typeof message.pid === 'number') {
      const s = stat(message.pid);
      if (s !== null) processes.set(message.pid, s.start);
    }
    if (typeof message.dir === 'string') dirs.add(message.dir);
  }
});
process.stdin.on('end', cleanUp);
process.stdin.on('error', cleanUp);
