#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, run
# as a non-root user, listening on a free loopback port and a private socket directory.
#   eval "$(scripts/pg-test-cluster.sh start)"   # exports BOLT_TEST_PG_URL and BOLT_TEST_PG_DIR
#   scripts/pg-test-cluster.sh stop "$BOLT_TEST_PG_DIR"
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "echo 'PostgreSQL server binaries not found (apt-get install postgresql)' >&2"; exit 1; }

run_as() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/bolt-pg.XXXXXX)
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$(id -u postgres 2>/dev/null || id -u nobody)" "$dir"
    port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
    run_as "$bindir/initdb" -D "$dir/data" -U bolt --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
    run_as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    run_as "$bindir/createdb" -h 127.0.0.1 -p "$port" -U bolt bolt_test
    echo "export BOLT_TEST_PG_DIR=$dir"
    echo "export BOLT_TEST_PG_URL=postgres://bolt@127.0.0.1:$port/bolt_test"
    ;;
  stop)
    dir=${2:?usage: stop DIR}
    run_as "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
