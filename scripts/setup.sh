#!/usr/bin/env bash
# Installs what `npm run bench` and `npm test` need, and does nothing (in well under a second) when all of
# it is present. Run by the `prebench` and `pretest` npm hooks, so the README's two commands set themselves
# up on a fresh Debian/Ubuntu machine with Node.
#
#   system packages  tcpdump (captures), tshark (the oracle that golden expectations come from), nginx-light
#                    (the field report's server), tinyproxy-bin (a CONNECT proxy for --proxy tinyproxy: the
#                    binary alone, no system service), chromium (the HTML report's browser test), iproute2
#                    (ip for emulated links; ss, the tests' oracle for the socket listing), and the Cairo/Pango
#                    build libraries that `canvas` compiles against when no prebuilt binary can be
#                    downloaded. Installed with apt-get when running as root; otherwise the exact command is
#                    printed and the script fails.
#   node_modules     `npm ci` when it is missing or older than package-lock.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# command-to-check:debian-package pairs; a package with no command is checked through dpkg.
commands=(tcpdump:tcpdump tshark:tshark nginx:nginx-light tinyproxy:tinyproxy-bin chromium:chromium ss:iproute2 pkg-config:pkg-config
  make:make g++:g++)
libraries=(libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev)

missing=()
for pair in "${commands[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if command -v dpkg-query >/dev/null 2>&1; then
  for lib in "${libraries[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$lib" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$lib")
  done
fi

if ((${#missing[@]} > 0)); then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${missing[*]}; this script installs them with apt-get (Debian/Ubuntu). Install their equivalents with your package manager, then run it again."
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    say "missing system packages: ${missing[*]}"
    say "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Package lists may be absent on a fresh image; refresh them once, then install.
  apt-get update -qq
  # Ubuntu 24.04 dropped nginx-light; its plain nginx package serves the same purpose.
  for i in "${!missing[@]}"; do
    if [[ "${missing[$i]}" == nginx-light ]] && ! apt-cache show nginx-light >/dev/null 2>&1; then missing[$i]=nginx; fi
  done
  say "installing ${missing[*]} (apt-get)"
  # The benchmark starts its own nginx on 127.0.0.1; keep the package from starting the system one on :80.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  ((own_policy)) && rm -f "$policy"
  if ((status != 0)); then
    say "apt-get install ${missing[*]} failed (exit $status)"
    exit 1
  fi
fi

# npm ci when node_modules is missing or the lock file changed since the last install. The stamp below records
# which lock file this script installed from. Without it (a plain `npm ci` made node_modules), npm's own record
# of what it installed, node_modules/.package-lock.json, is trusted when it matches package-lock.json: every
# package it lists at the locked version and integrity, and every locked package present but the optional ones
# for other platforms.
stamp=node_modules/.tls-reuse-bench-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
installed_matches_lock() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node -e '
    const fs = require("fs");
    const locked = JSON.parse(fs.readFileSync("package-lock.json", "utf8")).packages;
    const installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json", "utf8")).packages;
    const same = (a, b) => a.version === b.version && a.integrity === b.integrity;
    const ok = Object.entries(installed).every(([k, p]) => locked[k] !== undefined && same(p, locked[k])) &&
      Object.entries(locked).every(([k, p]) => k === "" || p.optional === true || installed[k] !== undefined);
    process.exit(ok ? 0 : 1);'
}
if [[ -d node_modules && "$want" != "$have" ]] && installed_matches_lock; then
  printf '%s\n' "$want" >"$stamp"
  have=$want
fi
if [[ ! -d node_modules || "$want" != "$have" ]]; then
  say "installing node modules (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$want" >"$stamp"
fi
