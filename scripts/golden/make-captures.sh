#!/usr/bin/env bash
# Makes the golden captures in fixtures/pcaps/ with real tools, then their tshark expectations
# (scripts/golden/make-expected.ts) and fixtures/pcaps/README.md. Run as root (tcpdump):
#
#   bash scripts/golden/make-captures.sh
#
# Every capture is tcpdump on lo (or `any`), full snaplen, immediate mode, started and confirmed listening
# before the first SYN, stopped with SIGINT and waited for; a capture with kernel drops fails the script.
# Servers (nginx, openssl s_server, Node) bind 127.0.0.1 or ::1 on free ports in 20000-29999, below
# Linux's ephemeral range so no client socket of another program can share them, and the BPF filter keeps
# only this script's ports. The certificate is a throwaway made here. Every TLS case writes an NSS key log
# NAME.keylog (curl's SSLKEYLOGFILE, openssl's -keylogfile, Node's 'keylog' event).
#
# Re-running replaces every capture, key log and expectation in fixtures/pcaps/ (ports, timings and
# random bytes differ from run to run; the expectations follow the new captures). Work happens in a
# temporary directory; fixtures/pcaps/ is only touched once every capture has been made.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/fixtures/pcaps
# `node --import tsx` from the repository root: one process per script, so its PID is the one to stop.
cd "$root"
ts_node=(node --import tsx)
say() { printf 'make-captures: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  say "run as root: tcpdump needs it to capture on lo"
  exit 2
fi
for tool in tcpdump tshark editcap mergecap nginx openssl curl ss node; do
  command -v "$tool" >/dev/null || { say "missing $tool (bash scripts/setup.sh installs it)"; exit 2; }
done
[[ -d node_modules/tsx ]] || { say "missing node_modules/tsx: run npm ci"; exit 2; }

work=$(mktemp -d /tmp/make-captures.XXXXXX)
stage=$work/pcaps
mkdir -p "$stage" "$work/www" "$work/nginx/logs" "$work/nginx/body"

# Every process this script starts is recorded here and stopped by PID, even when a step fails.
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------
# Helpers

used_ports=" "
# free_port VAR: sets VAR to a TCP/UDP port in 20000-29999 that nothing listens on and that this script
# has not handed out yet.
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 10000))
    [[ $used_ports == *" $port "* ]] && continue
    if [[ -z $(ss -Htuln "sport = :$port") ]]; then
      used_ports+="$port "
      printf -v "$1" '%s' "$port"
      return 0
    fi
  done
  say "no free port found in 20000-29999"
  return 1
}

wait_for_listener() { # PORT
  for _ in $(seq 100); do
    [[ -n $(ss -Htln "sport = :$1") ]] && return 0
    sleep 0.05
  done
  say "nothing listens on port $1 after 5 s"
  return 1
}

capture_pid=""
capture_name=""
# start_capture NAME INTERFACE FILTER [tcpdump options...]: returns once tcpdump says it is listening.
start_capture() {
  capture_name=$1
  local interface=$2 filter=$3
  shift 3
  # -B: 32 MiB of kernel buffer. With the default 2 MiB, `-i any` at full snaplen dropped packets in tests.
  tcpdump -i "$interface" --immediate-mode -U -s 0 -B 32768 -Z root "$@" -w "$stage/$capture_name.pcap" "$filter" \
    2>"$work/$capture_name.tcpdump" &
  capture_pid=$!
  pids+=("$capture_pid")
  for _ in $(seq 100); do
    grep -q 'listening on' "$work/$capture_name.tcpdump" && return 0
    kill -0 "$capture_pid" 2>/dev/null || break
    sleep 0.05
  done
  say "tcpdump for $capture_name did not start: $(cat "$work/$capture_name.tcpdump")"
  return 1
}

# Lets the last ACKs and FINs of the case reach the capture, then stops tcpdump and checks its counters.
stop_capture() {
  sleep 0.3
  kill -INT "$capture_pid"
  wait "$capture_pid" || true
  if ! grep -q '^0 packets dropped by kernel' "$work/$capture_name.tcpdump"; then
    say "$capture_name: tcpdump reports drops: $(cat "$work/$capture_name.tcpdump")"
    return 1
  fi
  say "$capture_name: $(grep 'packets captured' "$work/$capture_name.tcpdump")"
}

# Expectation inputs, one line per capture: NAME|FILE|SERVER_PORTS|TLS_PORTS|KEYLOG|DESCRIPTION.
manifest=()
describe() { # NAME FILE SERVER_PORTS TLS_PORTS KEYLOG DESCRIPTION
  manifest+=("$1|$2|$3|$4|$5|$6")
}

# ---------------------------------------------------------------------------------------------------
# Material: a throwaway certificate, the agent API's documents, servers

cert=$work/cert.pem
key=$work/key.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=golden.test \
  -addext 'subjectAltName=DNS:golden.test,IP:127.0.0.1,IP:::1' -keyout "$key" -out "$cert" 2>/dev/null

# ~11 KB of JSON shaped like an osquery config (the field report's config response), and a log batch.
{
  printf '{"options":{"distributed_interval":60,"logger_tls_period":4},"schedule":{'
  for i in $(seq -w 1 60); do
    [[ $i != 01 ]] && printf ','
    printf '"query_%s":{"query":"SELECT pid, name, path, cmdline FROM processes WHERE on_disk = 0 LIMIT %s;","interval":%d,"snapshot":false}' \
      "$i" "$i" $((60 * 10#$i))
  done
  printf '}}\n'
} >"$work/www/config.json"
{
  printf '{"node_key":"golden","log_type":"result","data":['
  for i in $(seq 1 12); do
    [[ $i != 1 ]] && printf ','
    printf '{"name":"pack_it_processes","hostIdentifier":"golden-host","calendarTime":"Mon Jan  1 00:00:%02d 2024 UTC","action":"added","columns":{"pid":"%d","name":"sshd"}}' "$i" $((1000 + i))
  done
  printf ']}\n'
} >"$work/log.json"

free_port nginx_tls
free_port nginx_http
cat >"$work/nginx/nginx.conf" <<EOF
master_process off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  types { application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nginx_tls ssl;
    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    # A session cache lets TLS 1.2 clients resume by session ID (curl sends no session_ticket extension).
    ssl_session_cache shared:golden:1m;
    root $work/www;
    location = /log { return 200 '{"node_invalid":false}\n'; }
  }
  server {
    listen 127.0.0.1:$nginx_http;
    root $work/www;
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>"$work/nginx/logs/stderr" &
pids+=($!)
wait_for_listener "$nginx_tls"
wait_for_listener "$nginx_http"

config_url="https://golden.test:$nginx_tls/config.json"
# --resolve makes curl send SNI (golden.test) while connecting to 127.0.0.1; -k: throwaway certificate.
curl_tls() { curl -sS -k --resolve "golden.test:$nginx_tls:127.0.0.1" "$@" >/dev/null; }

# ---------------------------------------------------------------------------------------------------
# nginx + curl

start_capture nginx-tls13-fresh lo "tcp port $nginx_tls"
for _ in 1 2 3; do SSLKEYLOGFILE=$stage/nginx-tls13-fresh.keylog curl_tls --tlsv1.3 "$config_url"; done
stop_capture
describe nginx-tls13-fresh nginx-tls13-fresh.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-fresh.keylog \
  'nginx + 3 separate curl runs, TLS 1.3: 3 connections, 3 full handshakes, ~11 KB JSON each'

start_capture nginx-tls13-reused lo "tcp port $nginx_tls"
SSLKEYLOGFILE=$stage/nginx-tls13-reused.keylog curl_tls --tlsv1.3 "$config_url" "$config_url" "$config_url"
stop_capture
describe nginx-tls13-reused nginx-tls13-reused.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-reused.keylog \
  'nginx + one curl run with 3 URLs, TLS 1.3: 1 kept-alive connection, 3 requests'

start_capture nginx-tls12-fresh lo "tcp port $nginx_tls"
for _ in 1 2 3; do SSLKEYLOGFILE=$stage/nginx-tls12-fresh.keylog curl_tls --tls-max 1.2 "$config_url"; done
stop_capture
describe nginx-tls12-fresh nginx-tls12-fresh.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-fresh.keylog \
  'nginx + 3 separate curl runs, --tls-max 1.2: 3 connections, 3 full TLS 1.2 handshakes'

start_capture nginx-tls12-reused lo "tcp port $nginx_tls"
SSLKEYLOGFILE=$stage/nginx-tls12-reused.keylog curl_tls --tls-max 1.2 "$config_url" "$config_url" "$config_url"
stop_capture
describe nginx-tls12-reused nginx-tls12-reused.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx + one curl run with 3 URLs, --tls-max 1.2: 1 connection, 3 requests'

# `Connection: close` makes curl open a new connection per URL, resuming the TLS session it cached from
# the previous one (TLS 1.3: a PSK from nginx's NewSessionTicket; TLS 1.2: the session ID).
start_capture nginx-tls13-resumed lo "tcp port $nginx_tls"
SSLKEYLOGFILE=$stage/nginx-tls13-resumed.keylog curl_tls --tlsv1.3 -H 'Connection: close' "$config_url" "$config_url" "$config_url"
stop_capture
describe nginx-tls13-resumed nginx-tls13-resumed.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-resumed.keylog \
  'nginx + one curl run with 3 URLs and Connection: close, TLS 1.3: 3 connections, 1 full + 2 PSK-resumed handshakes'

start_capture nginx-tls12-resumed lo "tcp port $nginx_tls"
SSLKEYLOGFILE=$stage/nginx-tls12-resumed.keylog curl_tls --tls-max 1.2 -H 'Connection: close' "$config_url" "$config_url" "$config_url"
stop_capture
describe nginx-tls12-resumed nginx-tls12-resumed.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-resumed.keylog \
  'nginx + one curl run with 3 URLs and Connection: close, --tls-max 1.2: 3 connections, 1 full + 2 session-ID resumptions'

start_capture nginx-tls13-post lo "tcp port $nginx_tls"
SSLKEYLOGFILE=$stage/nginx-tls13-post.keylog curl_tls --tlsv1.3 -H 'content-type: application/json' \
  --data-binary "@$work/log.json" "https://golden.test:$nginx_tls/log"
stop_capture
describe nginx-tls13-post nginx-tls13-post.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-post.keylog \
  "nginx + curl POST of a $(wc -c <"$work/log.json")-byte JSON log batch, TLS 1.3: upstream-heavy request"

start_capture tls13-nokeys lo "tcp port $nginx_tls"
env -u SSLKEYLOGFILE curl -sS -k --resolve "golden.test:$nginx_tls:127.0.0.1" --tlsv1.3 "$config_url" "$config_url" >/dev/null
stop_capture
describe tls13-nokeys tls13-nokeys.pcap "$nginx_tls" "$nginx_tls" - \
  'nginx + curl, TLS 1.3, no key log exists: record counts and bytes only (handshake/app-data split not comparable)'

start_capture plain-http-udp-noise lo "tcp port $nginx_http or udp port $nginx_http or (icmp and icmp[30:2] = $nginx_http)"
curl -sS "http://127.0.0.1:$nginx_http/config.json" >/dev/null
# UDP datagrams to the same port number (nothing listens on UDP there): non-TCP noise, answered by ICMP
# port-unreachable messages, between two plain-HTTP connections.
for i in 1 2 3; do printf 'noise %d\n' "$i" >"/dev/udp/127.0.0.1/$nginx_http"; done
curl -sS "http://127.0.0.1:$nginx_http/config.json" "http://127.0.0.1:$nginx_http/config.json" >/dev/null
stop_capture
describe plain-http-udp-noise plain-http-udp-noise.pcap "$nginx_http" "" - \
  'plain HTTP (no TLS) to nginx: 2 connections (1 and 2 requests), with 3 UDP datagrams and their ICMP errors as noise'

start_capture any-sll-tls13 any "tcp port $nginx_tls" -y LINUX_SLL
for _ in 1 2; do SSLKEYLOGFILE=$stage/any-sll-tls13.keylog curl_tls --tlsv1.3 "$config_url"; done
stop_capture
describe any-sll-tls13 any-sll-tls13.pcap "$nginx_tls" "$nginx_tls" any-sll-tls13.keylog \
  'tcpdump -i any -y LINUX_SLL (Linux cooked v1 link type), 2 curl runs to nginx, TLS 1.3'

start_capture any-sll2-tls12 any "tcp port $nginx_tls" -y LINUX_SLL2
SSLKEYLOGFILE=$stage/any-sll2-tls12.keylog curl_tls --tls-max 1.2 "$config_url" "$config_url"
stop_capture
describe any-sll2-tls12 any-sll2-tls12.pcap "$nginx_tls" "$nginx_tls" any-sll2-tls12.keylog \
  'tcpdump -i any -y LINUX_SLL2 (Linux cooked v2 link type), one curl run with 2 URLs to nginx, TLS 1.2'

# ---------------------------------------------------------------------------------------------------
# openssl s_server / s_client: resumption and cipher suites

free_port ossl_port
# s_server -www answers `GET /` with an HTML status page and closes; -ign_eof keeps s_client reading
# until then (otherwise it hangs up as soon as its stdin ends).
start_s_server() { # KEYLOG [s_server options...]
  local keylog=$1
  shift
  openssl s_server -accept "127.0.0.1:$ossl_port" -cert "$cert" -key "$key" -www -quiet -keylogfile "$keylog" "$@" \
    >/dev/null 2>"$work/s_server.err" &
  s_server_pid=$!
  pids+=("$s_server_pid")
  wait_for_listener "$ossl_port"
}
stop_s_server() {
  kill "$s_server_pid"
  wait "$s_server_pid" || true
}
s_client_get() { # OUTPUT [s_client options...]
  local output=$1
  shift
  printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$ossl_port" -servername golden.test -ign_eof "$@" \
    >"$output" 2>&1
}
# s_client prints "New, ..." for a full handshake and "Reused, ..." for a resumed one.
require_handshake() { # OUTPUT New|Reused
  grep -q "^$2, " "$1" || { say "expected a '$2' handshake in $1: $(grep -E '^(New|Reused),' "$1" || true)"; return 1; }
}

resumption_case() { # NAME VERSION_FLAG DESCRIPTION [s_server options...]
  local name=$1 version=$2 description=$3
  shift 3
  start_capture "$name" lo "tcp port $ossl_port"
  start_s_server "$stage/$name.keylog" "$@"
  s_client_get "$work/$name.1" "$version" -sess_out "$work/$name.session"
  require_handshake "$work/$name.1" New
  for i in 2 3; do
    s_client_get "$work/$name.$i" "$version" -sess_in "$work/$name.session"
    require_handshake "$work/$name.$i" Reused
  done
  stop_s_server
  stop_capture
  describe "$name" "$name.pcap" "$ossl_port" "$ossl_port" "$name.keylog" "$description"
}
resumption_case openssl-tls13-resumed -tls1_3 \
  'openssl s_server -www + 3 s_client runs (-sess_out, then -sess_in twice), TLS 1.3: 1 full + 2 PSK-resumed handshakes'
resumption_case openssl-tls12-resumed-ticket -tls1_2 \
  'openssl s_server -www + 3 s_client runs, TLS 1.2 session tickets: 1 full + 2 abbreviated handshakes'
resumption_case openssl-tls12-resumed-sessionid -tls1_2 \
  'openssl s_server -www -no_ticket + 3 s_client runs, TLS 1.2 session IDs: 1 full + 2 abbreviated handshakes' -no_ticket

cipher_case() { # NAME CIPHER DESCRIPTION
  start_capture "$1" lo "tcp port $ossl_port"
  start_s_server "$stage/$1.keylog"
  s_client_get "$work/$1.out" -tls1_2 -cipher "$2"
  grep -q "Cipher is $2" "$work/$1.out" || { say "$1: cipher $2 was not negotiated"; return 1; }
  stop_s_server
  stop_capture
  describe "$1" "$1.pcap" "$ossl_port" "$ossl_port" "$1.keylog" "$3"
}
cipher_case openssl-tls12-chacha20 ECDHE-RSA-CHACHA20-POLY1305 \
  'openssl s_server -www + s_client -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 (no explicit nonce, 16-byte tag)'
cipher_case openssl-tls12-aes256gcm ECDHE-RSA-AES256-GCM-SHA384 \
  'openssl s_server -www + s_client -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384 (8-byte explicit nonce, 16-byte tag)'

# ---------------------------------------------------------------------------------------------------
# Node's TLS stack

start_node_server() { # HOST PORT KEYLOG
  "${ts_node[@]}" "$root/scripts/golden/node-tls-peer.ts" server --host "$1" --port "$2" --cert "$cert" --key "$key" \
    --keylog "$3" >"$work/node-server.out" &
  node_server_pid=$!
  pids+=("$node_server_pid")
  wait_for_listener "$2"
}
stop_node_server() {
  kill "$node_server_pid"
  wait "$node_server_pid" || true
}

free_port node_port
start_capture node-tls13-keepalive lo "tcp port $node_port"
start_node_server 127.0.0.1 "$node_port" "$stage/node-tls13-keepalive.keylog"
# 70000 bytes: TLS records of 16 KiB straddle loopback's ~64 KiB segments.
"${ts_node[@]}" "$root/scripts/golden/node-tls-peer.ts" client --host 127.0.0.1 --port "$node_port" --sizes 200,11000,70000,3000
stop_node_server
stop_capture
describe node-tls13-keepalive node-tls13-keepalive.pcap "$node_port" "$node_port" node-tls13-keepalive.keylog \
  'Node https client and server, TLS 1.3: 4 requests (200 B to 70 KB) on one kept-alive connection, records straddling segments'

free_port node6_port
start_capture node-tls13-ipv6 lo "tcp port $node6_port"
start_node_server ::1 "$node6_port" "$stage/node-tls13-ipv6.keylog"
for size in 4000 9000; do
  "${ts_node[@]}" "$root/scripts/golden/node-tls-peer.ts" client --host ::1 --port "$node6_port" --sizes "$size,500"
done
stop_node_server
stop_capture
describe node-tls13-ipv6 node-tls13-ipv6.pcap "$node6_port" "$node6_port" node-tls13-ipv6.keylog \
  'Node https client and server on ::1 (IPv6), TLS 1.3: 2 connections of 2 requests each'

start_capture node-tls13-keyupdate lo "tcp port $node_port"
start_node_server 127.0.0.1 "$node_port" "$stage/node-tls13-keyupdate.keylog"
# Node cannot send a KeyUpdate itself: s_client's `K` command sends one with update_requested, so the
# Node (OpenSSL) server answers with its own; both directions change keys between the two requests.
{
  printf 'GET /bytes/3000 HTTP/1.1\r\nHost: golden.test\r\n\r\n'
  sleep 0.5
  printf 'K\n'
  sleep 0.5
  printf 'GET /bytes/5000 HTTP/1.1\r\nHost: golden.test\r\n\r\n'
  sleep 0.5
} | openssl s_client -connect "127.0.0.1:$node_port" -servername golden.test -tls1_3 >"$work/keyupdate.out" 2>&1
grep -q KEYUPDATE "$work/keyupdate.out" || { say "s_client did not send a KeyUpdate"; exit 1; }
stop_node_server
stop_capture
describe node-tls13-keyupdate node-tls13-keyupdate.pcap "$node_port" "$node_port" node-tls13-keyupdate.keylog \
  'openssl s_client against the Node https server, TLS 1.3: request, KeyUpdate both ways (s_client K), request'

# ---------------------------------------------------------------------------------------------------
# Edge cases derived from the captures above with Wireshark's tools and scripts/golden/pcap-edit.ts

edit() { "${ts_node[@]}" "$root/scripts/golden/pcap-edit.ts" "$@"; }

editcap -F pcapng "$stage/nginx-tls13-reused.pcap" "$stage/edge-pcapng.pcapng"
describe edge-pcapng edge-pcapng.pcapng "$nginx_tls" "$nginx_tls" nginx-tls13-reused.keylog \
  'nginx-tls13-reused converted to pcapng (editcap -F pcapng)'

mergecap -F pcapng -w "$stage/edge-two-linktypes.pcapng" "$stage/any-sll2-tls12.pcap" "$stage/nginx-tls12-fresh.pcap"
describe edge-two-linktypes edge-two-linktypes.pcapng "$nginx_tls" "$nginx_tls" - \
  'mergecap of any-sll2-tls12 (Linux cooked v2) and nginx-tls12-fresh (Ethernet): pcapng with two interfaces of different link types'

editcap -F nsecpcap "$stage/nginx-tls13-fresh.pcap" "$stage/edge-nsec.pcap"
describe edge-nsec edge-nsec.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-fresh.keylog \
  'nginx-tls13-fresh as a nanosecond pcap (editcap -F nsecpcap)'

edit bigendian "$stage/nginx-tls12-reused.pcap" "$stage/edge-bigendian.pcap"
describe edge-bigendian edge-bigendian.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused with big-endian file and record headers (pcap-edit.ts bigendian)'

# editcap writes pcapng unless -F says otherwise: the edits below keep the classic format their names say.
editcap -F pcap -s 96 "$stage/nginx-tls13-fresh.pcap" "$stage/edge-snaplen96.pcap"
describe edge-snaplen96 edge-snaplen96.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-fresh.keylog \
  'nginx-tls13-fresh cut to 96 captured bytes per frame (editcap -s 96): headers only, no TLS comparable'
editcap -F pcapng -s 96 "$stage/nginx-tls13-fresh.pcap" "$stage/edge-snaplen96-ng.pcapng"
describe edge-snaplen96-ng edge-snaplen96-ng.pcapng "$nginx_tls" "$nginx_tls" nginx-tls13-fresh.keylog \
  'the same cut as edge-snaplen96, written as pcapng (editcap -F pcapng -s 96)'

edit vlan "$stage/nginx-tls12-reused.pcap" "$stage/edge-vlan.pcap"
describe edge-vlan edge-vlan.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused with an 802.1Q tag (VID 100) in every frame (pcap-edit.ts vlan)'

edit qinq "$stage/nginx-tls13-reused.pcap" "$stage/edge-qinq.pcap"
describe edge-qinq edge-qinq.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-reused.keylog \
  'nginx-tls13-reused with 802.1ad + 802.1Q tags (QinQ, VIDs 200/100) in every frame (pcap-edit.ts qinq)'

edit retransmit "$stage/node-tls13-keepalive.pcap" "$stage/edge-retransmit.pcap"
describe edge-retransmit edge-retransmit.pcap "$node_port" "$node_port" node-tls13-keepalive.keylog \
  'node-tls13-keepalive with a client and a server segment sent twice, and a server segment partly overlapping an earlier one (pcap-edit.ts retransmit)'

edit reorder "$stage/nginx-tls13-fresh.pcap" "$stage/edge-reorder.pcap"
describe edge-reorder edge-reorder.pcap "$nginx_tls" "$nginx_tls" nginx-tls13-fresh.keylog \
  'nginx-tls13-fresh with each connection'"'"'s largest server segment split in two halves arriving out of order (pcap-edit.ts reorder)'

edit seqwrap "$stage/node-tls13-keepalive.pcap" "$stage/edge-seqwrap.pcap"
describe edge-seqwrap edge-seqwrap.pcap "$node_port" "$node_port" node-tls13-keepalive.keylog \
  'node-tls13-keepalive with sequence numbers shifted to wrap past 2^32 300 B (client) and 900 B (server) into the data (pcap-edit.ts seqwrap)'

for encapsulation in pppoe mpls gre vxlan nflog nflog-be erspan2 erspan3 gtpu snap; do
  edit "$encapsulation" "$stage/nginx-tls12-reused.pcap" "$stage/edge-$encapsulation.pcap"
done
describe edge-pppoe edge-pppoe.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused inside a PPPoE session (pcap-edit.ts pppoe)'
describe edge-mpls edge-mpls.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused under a two-label MPLS stack (pcap-edit.ts mpls)'
describe edge-gre edge-gre.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused tunnelled in keyed GRE over an outer IPv4 (pcap-edit.ts gre): ipBytes are the inner datagrams'"'"''
describe edge-vxlan edge-vxlan.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused, whole Ethernet frames in VXLAN over UDP 4789 (pcap-edit.ts vxlan)'
describe edge-nflog edge-nflog.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused as Linux NFLOG records, link type 239 (pcap-edit.ts nflog)'
describe edge-nflog-be edge-nflog-be.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'edge-nflog as a big-endian host writes it: file, record headers and NFLOG TLVs big-endian (pcap-edit.ts nflog-be)'
describe edge-erspan2 edge-erspan2.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused, whole Ethernet frames mirrored by ERSPAN type II (GRE 0x88BE with sequence numbers) over an outer IPv4 (pcap-edit.ts erspan2)'
describe edge-erspan3 edge-erspan3.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused, whole Ethernet frames mirrored by ERSPAN type III (GRE 0x22EB, platform subheader) (pcap-edit.ts erspan3)'
describe edge-gtpu edge-gtpu.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused, every IP datagram a GTP-U G-PDU with sequence numbers over UDP 2152 (pcap-edit.ts gtpu)'
describe edge-snap edge-snap.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-reused.keylog \
  'nginx-tls12-reused, every frame that fits 1500 bytes as IEEE 802.3 with an 802.2 LLC/SNAP header (pcap-edit.ts snap)'

# The key log inside the capture: a pcapng Decryption Secrets Block, and no --keylog given.
editcap --inject-secrets "tls,$stage/nginx-tls13-fresh.keylog" "$stage/nginx-tls13-fresh.pcap" "$stage/edge-dsb.pcapng"
describe edge-dsb edge-dsb.pcapng "$nginx_tls" "$nginx_tls" - \
  'nginx-tls13-fresh with its key log embedded as a pcapng Decryption Secrets Block (editcap --inject-secrets)'

# The first connection loses its three-way handshake (frames 1-3): its SYN is not in the capture.
editcap -F pcap "$stage/nginx-tls12-fresh.pcap" "$stage/edge-midstream.pcap" 1-3
describe edge-midstream edge-midstream.pcap "$nginx_tls" "$nginx_tls" nginx-tls12-fresh.keylog \
  'nginx-tls12-fresh without its first three frames (editcap): one connection whose SYN is not captured'

# The capture ends in the middle of the 70 KB response: its last TLS records never complete.
cut_frame=$(tshark -r "$stage/node-tls13-keepalive.pcap" -Y 'tcp.len > 30000' -T fields -e frame.number 2>/dev/null | head -1)
editcap -F pcap -r "$stage/node-tls13-keepalive.pcap" "$stage/edge-cut-mid-record.pcap" "1-$cut_frame"
describe edge-cut-mid-record edge-cut-mid-record.pcap "$node_port" "$node_port" node-tls13-keepalive.keylog \
  "node-tls13-keepalive cut after frame $cut_frame (editcap -r), inside a TLS record of the 70 KB response"

# ---------------------------------------------------------------------------------------------------
# Publish: replace fixtures/pcaps/ captures, derive expectations, write the README

mkdir -p "$out"
rm -f "$out"/*.pcap "$out"/*.pcapng "$out"/*.keylog "$out"/*.expected.json
cp "$stage"/*.pcap "$stage"/*.pcapng "$stage"/*.keylog "$out"/
chmod 644 "$out"/*

for entry in "${manifest[@]}"; do
  IFS='|' read -r name file server_ports tls_ports keylog _ <<<"$entry"
  args=(--pcap "$out/$file")
  for port in ${server_ports//,/ }; do args+=(--server-port "$port"); done
  for port in ${tls_ports//,/ }; do args+=(--tls-port "$port"); done
  [[ $keylog != - ]] && args+=(--keylog "$out/$keylog")
  "${ts_node[@]}" "$root/scripts/golden/make-expected.ts" "${args[@]}"
done

{
  printf '# Golden captures\n\n'
  printf 'Made by `scripts/golden/make-captures.sh` (real tcpdump captures of nginx, openssl and Node on\n'
  printf 'loopback, and edge cases derived from them with editcap/mergecap and `scripts/golden/pcap-edit.ts`).\n'
  printf 'Each `NAME.expected.json` was extracted by tshark (`scripts/golden/make-expected.ts`), never by this\n'
  printf "project's code; it names the tshark version, the exact commands, the server ports, the key log and\n"
  printf 'which fields are comparable. `test/golden/golden.test.ts` checks the analyzer against every one.\n\n'
  printf '| capture | how it was made, what it exercises |\n| --- | --- |\n'
  for entry in "${manifest[@]}"; do
    IFS='|' read -r name file _ _ keylog description <<<"$entry"
    if [[ $keylog == - ]]; then keys='no key log'; else keys="keys: \`$keylog\`"; fi
    printf '| `%s` | %s (%s) |\n' "$file" "$description" "$keys"
  done
} >"$out/README.md"
say "wrote ${#manifest[@]} captures, their expectations and README.md to $out"
