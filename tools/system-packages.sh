#!/bin/sh
# Installs from Debian only the system tools this project uses that the machine lacks, each by its own
# package: Chromium (browser tests), Redis (shared rate limits), Java (the Nu HTML Checker), PostgreSQL
# (the outbox's second backend), gpg and openssl (opening sealed enquiries), nginx (in front of gunicorn, as
# in production: make run-cluster and the slow-client test), and Node.js with npm only when there is no npm
# at all: machine images whose Node.js ships its own npm conflict with Debian's `npm`.
# Run by `make system-packages`; on a machine that has everything it asks apt for nothing.
# A tool counts as present when its command is on PATH (so a test can hide one); PostgreSQL's server
# commands live outside PATH on Debian, so they are also looked for under $PG_ROOT, and nginx, in /usr/sbin
# (outside a user's PATH), under $SBIN.
set -eu

APT_GET=${APT_GET:-apt-get}
PG_ROOT=${PG_ROOT:-/usr/lib/postgresql}
SBIN=${SBIN:-/usr/sbin}

missing=""
need() {  # need COMMAND PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  shift
  missing="$missing $*"
}

need chromium chromium
need redis-server redis-server
need java default-jre-headless
need gpg gnupg
need openssl openssl
need npm nodejs npm
[ -x "$SBIN/nginx" ] || need nginx nginx
if ! command -v pg_ctl >/dev/null 2>&1; then
  found=""
  for ctl in "$PG_ROOT"/*/bin/pg_ctl; do [ -x "$ctl" ] && found=1; done
  [ -n "$found" ] || missing="$missing postgresql"
fi

if [ -z "$missing" ]; then
  echo "system packages: nothing missing"
  exit 0
fi

echo "system packages: installing$missing"
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo "$APT_GET" update -qq
# shellcheck disable=SC2086  # one word per package
$sudo env DEBIAN_FRONTEND=noninteractive "$APT_GET" install -y -qq $missing
