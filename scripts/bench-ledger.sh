#!/usr/bin/env bash
# Ledger throughput, as the bank-core issue asks: the PostgreSQL baseline of
# one transfer per transaction (pgbench with ../shared/bench), the SQLite
# baseline of plain batched SQL with the same durability
# (../shared/bench/sqlite-baseline.py, 4,096 transfers per transaction), then
# `bankbridge-bench ledger` on SQLite and PostgreSQL, interleaved, RUNS times
# each, printing every run, the medians and each engine's ratio to its
# baseline (the median of the runs' ratios: on a shared machine only a ratio
# measured in the same run holds). Loopback only; bounded in time.
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
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

declare -a base sq pg sqbase sqratio pgratio
have_sqlite_baseline=
if [ -f "$SHARED/sqlite-baseline.py" ] && command -v python3 >/dev/null; then
  have_sqlite_baseline=1
fi
sqdir=$(mktemp -d)
trap 'rm -rf "$sqdir" "$(dirname "$bin")"' EXIT
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
  if [ -n "$have_sqlite_baseline" ]; then
    b=$(python3 "$SHARED/sqlite-baseline.py" "$sqdir" "$secs" 4096 | sed -E 's/.*"transfers_per_sec":([0-9.]+).*/\1/')
    sqbase+=("$b")
    echo "run $i sqlite baseline (plain SQL, 4,096 transfers/transaction): $b transfers/s"
  fi
  s=$("$bin" ledger --json --clients "$CLIENTS" --accounts "$ACCOUNTS" --duration "$DURATION" --keys "$KEYS")
  echo "run $i $s"
  sq+=("$(sed -E 's/.*"transfers_per_sec":([0-9.]+).*/\1/' <<<"$s")")
  p=$("$bin" ledger --json --clients "$CLIENTS" --accounts "$ACCOUNTS" --duration "$DURATION" --keys "$KEYS" --database "$PG")
  echo "run $i $p"
  pg+=("$(sed -E 's/.*"transfers_per_sec":([0-9.]+).*/\1/' <<<"$p")")
  if [ -n "$have_sqlite_baseline" ]; then
    sqratio+=("$(awk -v a="${sq[-1]}" -v b="${sqbase[-1]}" 'BEGIN {printf "%.2f", a/b}')")
  fi
  if [ -n "$have_baseline" ]; then
    pgratio+=("$(awk -v a="${pg[-1]}" -v b="${base[-1]}" 'BEGIN {printf "%.2f", a/b}')")
  fi
done
echo
echo "medians over $RUNS runs of $DURATION, $CLIENTS clients, $ACCOUNTS accounts, $KEYS keys:"
msq=$(printf '%s\n' "${sq[@]}" | median); mpg=$(printf '%s\n' "${pg[@]}" | median)
echo "  sqlite    $msq transfers/s"
echo "  postgres  $mpg transfers/s"
if [ -n "$have_sqlite_baseline" ]; then
  echo "  sqlite baseline $(printf '%s\n' "${sqbase[@]}" | median) transfers/s (plain SQL, 4,096 transfers per transaction)"
  echo "  sqlite / its baseline, run by run: ${sqratio[*]}; median $(printf '%s\n' "${sqratio[@]}" | median)x"
fi
if [ -n "$have_baseline" ]; then
  mb=$(printf '%s\n' "${base[@]}" | median)
  echo "  pgbench   $mb transfers/s (one transfer per transaction)"
  echo "  postgres / pgbench baseline, run by run: ${pgratio[*]}; median $(printf '%s\n' "${pgratio[@]}" | median)x"
fi
