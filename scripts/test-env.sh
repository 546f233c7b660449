#!/usr/bin/env bash
# Installs and starts what the test suite needs, idempotently, on a fresh
# machine of this project's kind: PostgreSQL running at 127.0.0.1:5432 with a
# database "test", NATS with JetStream at 127.0.0.1:4222, Debian's Chromium,
# the browser tests' npm packages, and the OpenAPI linter (@redocly/cli).
# Fails loudly when something cannot be had: tests never skip silently.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test-env: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL
if ! command -v pg_isready >/dev/null; then
  say "installing PostgreSQL"
  apt_install postgresql postgresql-client
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  say "starting PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { say "PostgreSQL is not reachable at 127.0.0.1:5432"; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'SELECT 1' >/dev/null 2>&1; then
  say "creating database test"
  createdb -h 127.0.0.1 -U postgres test
fi

# NATS with JetStream for the alert relay's tests
nats_up() { (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; }
if ! nats_up; then
  if ! command -v nats-server >/dev/null && ! [ -x /usr/sbin/nats-server ]; then
    say "installing NATS"
    apt_install nats-server
  fi
  say "starting NATS with JetStream"
  mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server || echo /usr/sbin/nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 20); do nats_up && break; sleep 0.5; done
fi
nats_up || { say "NATS is not reachable at 127.0.0.1:4222"; exit 1; }

# Chromium for the browser tests
if ! [ -x /usr/bin/chromium ]; then
  say "installing Chromium"
  apt_install chromium
fi

# poppler-utils: the statement tests read the PDF back (pdftotext) and render it (pdftoppm)
if ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null; then
  say "installing poppler-utils"
  apt_install poppler-utils
fi

# npm packages, installed again whenever a lockfile is newer than what npm
# last installed (node_modules/.package-lock.json), so a package added to a
# lockfile reaches machines that already had the folder.
npm_ready() { # dir what
  [ -f "$1/package-lock.json" ] || return 0
  if ! [ "$1/node_modules/.package-lock.json" -nt "$1/package-lock.json" ]; then
    say "installing $2"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
# playwright-core and axe-core for the browser tests (no browser download: it drives /usr/bin/chromium)
npm_ready web/e2e "browser test packages"
# @redocly/cli for dataapi's TestDocumentLintsClean (lints dataapi/openapi.json)
npm_ready dataapi/lint "the OpenAPI linter"
say "ready"
