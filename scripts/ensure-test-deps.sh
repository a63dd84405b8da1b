#!/bin/sh
# System packages the tests and benchmarks need, given as command:package pairs:
#   make test   chromium:chromium     tests/integration/test_streamlog_browser.py (EventSource)
#               curl, openssl, h2load (nghttp2-client): real peers of the TLS, tunnel and HTTP/2 tests
#   make bench  also wrk:wrk nginx:nginx-light redis-server:redis-server (reference servers)
# Installs the missing ones with apt when running as root; otherwise says what to install and
# fails, so a missing browser is an error rather than a silently skipped test.
set -eu

missing=""
for pair in "$@"; do
    cmd=${pair%%:*}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing="$missing ${pair#*:}"
done
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
for pair in "$@"; do
    cmd=${pair%%:*}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || {
        echo "ensure-test-deps: $cmd still missing after installing ${pair#*:}" >&2; exit 1; }
done
