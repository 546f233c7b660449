#!/usr/bin/env bash
# Ledger throughput, as the bank-core issue asks: the PostgreSQL baseline of
# one transfer per transaction (pgbench with ../shared/bench), then
# `bankbridge-bench ledger` on SQLite and PostgreSQL, interleaved, RUNS times
# each, printing every run and the medians. Loopback only; bounded in time.
#   RUNS=5 DURATION=10s CLIENTS=1024 ./scripts/bench-ledger.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-4096}
KEYS=${KEYS:-ordered}
ACCOUNTS=${ACCOUNTS:-1000}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SHARED=${SHARED:-../shared/bench}
secs=${DURATION%s}

bin=$(mktemp -d)/bankbridge-bench
go build -o "$bin" ./cmd/bankbridge-bench
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -a base sq pg
have_baseline=
if [ -f "$SHARED/pgbench-transfer.sql" ] && command -v pgbench >/dev/null; then
  have_baseline=1
  createdb -h 127.0.0.1 -U postgres ledger_baseline 2>/dev/null || true
fi
for i in $(seq 1 "$RUNS"); do
  if [ -n "$have_baseline" ]; then
    psql -q -h 127.0.0.1 -U postgres -d ledger_baseline -v naccounts="$ACCOUNTS" -f "$SHARED/pgbench-ledger-schema.sql" >/dev/null 2>&1
    tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 8 -j 2 -T "$secs" --max-tries=20 -f "$SHARED/pgbench-transfer.sql" ledger_baseline 2>/dev/null | awk '/^tps/ {print int($3)}')
    base+=("$tps")
    echo "run $i pgbench baseline (1 transfer/transaction, 8 clients): $tps transfers/s"
  fi
  s=$("$bin" ledger --json --clients "$CLIENTS" --accounts "$ACCOUNTS" --duration "$DURATION" --keys "$KEYS")
  echo "run $i $s"
  sq+=("$(sed -E 's/.*"transfers_per_sec":([0-9.]+).*/\1/' <<<"$s")")
  p=$("$bin" ledger --json --clients "$CLIENTS" --accounts "$ACCOUNTS" --duration "$DURATION" --keys "$KEYS" --database "$PG")
  echo "run $i $p"
  pg+=("$(sed -E 's/.*"transfers_per_sec":([0-9.]+).*/\1/' <<<"$p")")
done
echo
echo "medians over $RUNS runs of $DURATION, $CLIENTS clients, $ACCOUNTS accounts, $KEYS keys:"
msq=$(printf '%s\n' "${sq[@]}" | median); mpg=$(printf '%s\n' "${pg[@]}" | median)
echo "  sqlite    $msq transfers/s"
echo "  postgres  $mpg transfers/s"
if [ -n "$have_baseline" ]; then
  mb=$(printf '%s\n' "${base[@]}" | median)
  echo "  pgbench   $mb transfers/s (one transfer per transaction)"
  awk -v a="$mpg" -v b="$mb" 'BEGIN {printf "  postgres / pgbench baseline = %.1fx\n", a/b}'
fi
