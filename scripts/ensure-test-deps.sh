#!/bin/sh
# System packages the tests and benchmarks need (`make test`, `make bench` run this first):
#   chromium      tests/integration/test_streamlog_browser.py (EventSource in a real browser)
#   redis-server  tests/bench/streamlog.py (Redis Streams, the reference next to the stream-log)
# Installs the missing ones with apt when running as root; otherwise says what to install and
# fails, so a missing browser is an error rather than a silently skipped test.
set -eu

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "ensure-test-deps: missing system packages:$missing" >&2
    echo "ensure-test-deps: install them as root: apt-get install -y$missing" >&2
    exit 1
fi
echo "ensure-test-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing >/dev/null
for cmd in $missing; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "ensure-test-deps: $cmd still missing" >&2; exit 1; }
done
