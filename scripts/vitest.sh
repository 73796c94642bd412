#!/usr/bin/env bash
# Runs vitest for `npm test`. Its colour library colours output whenever TERM is not "dumb" or CI is set, so
# a log file or a CI job got escape sequences; here colour is only for a terminal.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ ! -t 1 ]]; then
  export NO_COLOR=1
  unset FORCE_COLOR
fi
exec npx vitest run "$@"
