// The floor of any pcap-parser-based reader: iterate a classic pcap file with pcap-parser and count its
// packets, nothing else. Plain CommonJS run by node itself, so no loader cost is added to the floor.
// Usage: node scripts/perf/pcap-parser-loop.cjs FILE   (prints the packet count)
'use strict';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node scripts/perf/pcap-parser-loop.cjs FILE\n');
  process.exit(2);
}
let packets = 0;
const parser = require('pcap-parser').parse(file);
parser.on('packet', () => {
  packets += 1;
});
parser.on('error', (error) => {
  process.stderr.write(`error: ${file}: ${error.message}\n`);
  process.exitCode = 1;
});
parser.on('end', () => process.stdout.write(`${packets}\n`));
