# Shared by scripts/dev and scripts/test: find or provide a PostgreSQL server.
# After `ensure_postgres`, PG_ADMIN_URL points at a database we may create databases from.

say() { printf '%s\n' "==> $*" >&2; }
fail() { printf '%s\n' "error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else fail "need root to run: $* (run it yourself, or set DATABASE_URL to a server you have)"
  fi
}

# True when something accepts connections on 127.0.0.1:5432.
local_answers() {
  if command -v pg_isready >/dev/null; then pg_isready -q -h 127.0.0.1 -p 5432
  else (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

wait_for_local() {
  for _ in $(seq 1 30); do local_answers && return 0; sleep 1; done
  return 1
}

start_installed_cluster() {
  local version
  version=$(ls /etc/postgresql | sort -V | tail -1)
  say "PostgreSQL $version is installed but not answering: starting it with pg_ctlcluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
    || fail "could not start PostgreSQL $version; start it yourself or set DATABASE_URL"
}

# Uses DATABASE_URL when set; otherwise a server on 127.0.0.1:5432, starting the installed
# cluster when it is down, or installing PostgreSQL from Debian's packages when there is none.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    say "using the PostgreSQL server in DATABASE_URL"
    PG_ADMIN_URL="${DATABASE_URL%/*}/postgres"
    return
  fi
  if local_answers; then
    say "using the PostgreSQL server answering on 127.0.0.1:5432"
  elif ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    start_installed_cluster
    wait_for_local || fail "PostgreSQL did not come up on 127.0.0.1:5432; see its log in /var/log/postgresql"
  else
    say "no PostgreSQL on this machine: installing it from Debian's packages"
    as_root apt-get update -qq || fail "apt-get update failed; install PostgreSQL yourself or set DATABASE_URL"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
      || fail "could not install PostgreSQL; install it yourself or set DATABASE_URL"
    wait_for_local || start_installed_cluster
    wait_for_local || fail "PostgreSQL did not come up on 127.0.0.1:5432; see its log in /var/log/postgresql"
  fi
  PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
  if ! psql "$PG_ADMIN_URL" -qAtc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian install only lets the postgres OS user in over the socket: let local TCP in
    # with a password we set, for this machine only.
    say "setting a local password for the postgres role so the application can connect over TCP"
    as_root su postgres -c "psql -qc \"alter role postgres password 'postgres'\"" \
      || fail "cannot connect as postgres; set DATABASE_URL to a server and role you can use"
    PG_ADMIN_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
    psql "$PG_ADMIN_URL" -qAtc 'select 1' >/dev/null \
      || fail "cannot connect to 127.0.0.1:5432 as postgres; set DATABASE_URL"
  fi
}

# Creates database $1 on the server in PG_ADMIN_URL unless it exists; prints its URL.
ensure_database() {
  local name=$1
  if [ -z "$(psql "$PG_ADMIN_URL" -qAtc "select 1 from pg_database where datname = '$name'")" ]; then
    say "creating database $name"
    psql "$PG_ADMIN_URL" -qc "create database \"$name\"" >/dev/null
  fi
  printf '%s\n' "${PG_ADMIN_URL%/*}/$name"
}
