/**
 * A process that holds a link and keeps traffic on it until it is signalled, for the cleanup tests:
 * `node --import tsx test/link/hold-link.ts PREFIX SLEEP_SECONDS`. Besides the probe peer it starts
 * `sleep SLEEP_SECONDS` inside the server namespace in a process group of its own, so that a signal to this
 * process's group does not reach it: only the link's teardown or the sweep can stop it. Prints
 * `open {json}` once the link is open and traffic flows. It installs no signal handler: what a signal does
 * to it is Node's and execa's default, as in the runner.
 */
import { execa } from 'execa';
import { openLink, parseNetworkList, type LinkProfile } from '../../bench/link/index.ts';
import { echoTransfer, startProbePeer } from '../../bench/link/probe.ts';

const [prefix = 'trb', sleepSeconds = '600'] = process.argv.slice(2);
const [profile] = parseNetworkList('rtt=2ms,down=100mbit') as LinkProfile[];
const link = await openLink({ profile: profile!, prefix });
const [file, ...args] = link.serverCommand(['sleep', sleepSeconds]);
const sleeper = execa(file!, args, { detached: true, stdio: 'ignore', reject: false, cleanup: false });
const peer = await startProbePeer(link.serverIp, link.serverCommand);
process.stdout.write(`open ${JSON.stringify({ namespace: link.serverNamespace, sleeperPid: sleeper.pid })}\n`);
for (let seed = 0; ; seed++) await echoTransfer(peer, 200_000, seed);
