# Shared by bench/run and bench/delayed: the national-scale data, the release build, signing
# in, serving, and the pages measured (each script defines `measure ROUND NAME PATH COOKIE`).
# Sourced from the repository root after scripts/lib/postgres.sh.

COUNCILS=${COUNCILS:-350}
CYCLES=${CYCLES:-5}
ACTIONS=${ACTIONS:-30}
PORT=${PORT:-3400}
base="http://127.0.0.1:$PORT"

# Finds or starts PostgreSQL, builds the release binary and generates the data (kept with
# KEEP_DATA=1); sets url, bin, the data's counts and the ids of the pages measured.
prepare_data() {
  ensure_postgres
  db=prevent_assure_bench
  if [ -z "${KEEP_DATA:-}" ]; then
    psql "$PG_ADMIN_URL" -qc "drop database if exists $db" >/dev/null
  fi
  url=$(ensure_database "$db")

  # BIN=path measures another build (an A/B against an earlier commit's binary).
  if [ -n "${BIN:-}" ]; then
    bin=$BIN
  else
    say "building the release binary"
    SQLX_OFFLINE=true cargo build --release --quiet
    bin=target/release/prevent-assure
  fi

  if [ -z "${KEEP_DATA:-}" ] || [ "$(psql "$url" -qAt -c "select to_regclass('organisations') is not null and exists (select 1 from organisations where slug = 'council-001')")" != t ]; then
    say "generating $COUNCILS councils × $CYCLES cycles, $ACTIONS actions each"
    local start
    start=$(date +%s)
    LOG_LEVEL=warn DATABASE_URL="$url" "$bin" generate --councils "$COUNCILS" --cycles "$CYCLES" --actions "$ACTIONS"
    say "generated in $(( $(date +%s) - start ))s"
  fi
  psql "$url" -qc "vacuum analyze" >/dev/null
  local counts
  counts=$(psql "$url" -qAt -F' ' -c "select (select count(*) from organisations), (select count(*) from assessments),
    (select count(*) from answers), (select count(*) from actions), (select count(*) from action_notes),
    (select round(avg(length(evidence))) from answers where evidence <> ''),
    pg_size_pretty(pg_database_size(current_database()))")
  read -r n_orgs n_assessments n_answers n_actions n_notes evidence_len db_size <<<"$counts"

  assessment=$(psql "$url" -qAt -c "select a.id from assessments a join organisations o on o.id = a.organisation_id
    join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
    where o.slug = 'council-001' and f.code = 'prevent-la-2018' order by c.starts_on desc limit 1")
  statement=$(psql "$url" -qAt -c "select a.id from assessments a join organisations o on o.id = a.organisation_id
    join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
    where o.slug = 'council-001' and f.code = 'channel-aas-2020' order by c.starts_on desc limit 1")
  # An assessment an adviser can review or has agreed (the review page), at council-001.
  reviewed=$(psql "$url" -qAt -c "select a.id from assessments a join organisations o on o.id = a.organisation_id
    join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
    where o.slug = 'council-001' and f.code = 'prevent-la-2018' and a.state in ('submitted', 'in_review', 'agreed', 'published')
    order by c.starts_on desc limit 1")
  # A published self-assessment, whose letter the council reads.
  published=$(psql "$url" -qAt -c "select a.id from assessments a join organisations o on o.id = a.organisation_id
    join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
    where o.slug = 'council-001' and f.code = 'prevent-la-2018' and a.state = 'published'
    order by c.starts_on desc limit 1")
}

server=
trap '[ -n "$server" ] && kill $server 2>/dev/null || true' EXIT

# start_server KEEP_VIEWS [DATABASE_URL]: serves the release build and waits until it answers.
# The suite signs in as an adviser and the administrator with a password alone: the second
# factor is not what it measures.
start_server() {
  SECOND_FACTOR_REQUIRED=false LOG_LEVEL=warn DATABASE_URL="${2:-$url}" BIND_ADDR="127.0.0.1:$PORT" \
    BENCH_FLOOR=true KEEP_VIEWS="$1" "$bin" serve &
  server=$!
  for _ in $(seq 1 60); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.5; done
  curl -sf "$base/healthz" >/dev/null || fail "the server did not start"
}

stop_server() {
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
}

# Signs in and prints the session cookie (name=value).
sign_in() {
  local jar
  jar=$(mktemp)
  curl -sf -c "$jar" -b "$jar" -o /dev/null "$base/login"
  curl -s -c "$jar" -b "$jar" -o /dev/null -H "Origin: $base" \
    --data-urlencode "email=$1" --data-urlencode "password=demo-password-prevent" "$base/login"
  awk '$6 == "pa_session" { print $6 "=" $7 }' "$jar"
  rm -f "$jar"
}

# save_loop SAVES THREADS: the lead of council-001 reads and saves benchmark pages of the
# latest (draft) self-assessment, THREADS at once, each on its own benchmark (bench/save.py);
# prints "saves seconds saves/s median p99 slowest" (milliseconds).
save_loop() {
  local lead
  lead=$(sign_in lead@council-001.example)
  [ -n "$lead" ] || fail "could not sign in"
  [ "$(psql "$url" -qAt -c "select state from assessments where id = '$assessment'")" = draft ] \
    || fail "council-001's latest self-assessment is not a draft: nothing to save"
  python3 bench/save.py "$base" "$lead" "$assessment" "$1" "$2"
}

# each_page ROUND: signs in as each person and calls `measure ROUND NAME PATH COOKIE` for
# every page of the suite, between two measures of the floor.
each_page() {
  local round=$1 lead adviser admin team owner
  lead=$(sign_in lead@council-001.example)
  adviser=$(sign_in adviser.region-1@homeoffice.example)
  admin=$(sign_in admin@prevent-assure.example)
  team=$(sign_in channel@homeoffice.example)
  owner=$(sign_in owner@council-001.example)
  [ -n "$lead" ] && [ -n "$adviser" ] && [ -n "$admin" ] && [ -n "$team" ] && [ -n "$owner" ] || fail "could not sign in"
  measure "$round" floor /bench/floor ""
  # Not a view: the cheapest signed-in page, for scale.
  measure "$round" "account page (reference)" /account "$lead"
  measure "$round" "board view" /orgs/council-001 "$lead"
  measure "$round" "action plan" /orgs/council-001/actions "$lead"
  measure "$round" "benchmark page" "/assessments/$assessment/benchmarks/5" "$lead"
  measure "$round" "region view" /regions/region-1 "$adviser"
  measure "$round" "national view" /national "$admin"
  measure "$round" "Channel key area page" "/assessments/$statement/key-areas/4" "$lead"
  measure "$round" "Channel statement's task list" "/assessments/$statement" "$lead"
  measure "$round" "Channel statement page" "/assessments/$statement/statement" "$lead"
  measure "$round" "Channel national grid" /channel "$team"
  measure "$round" "Channel team's check of a statement" "/assessments/$statement/channel-review" "$team"
  measure "$round" "task list" "/assessments/$assessment" "$lead"
  measure "$round" "check page" "/assessments/$assessment/check" "$lead"
  [ -n "$reviewed" ] && measure "$round" "review page" "/assessments/$reviewed/review" "$adviser"
  [ -n "$published" ] && measure "$round" "the adviser's letter (as the lead reads it)" "/assessments/$published/letter" "$lead"
  measure "$round" "an assessment's history" "/assessments/$assessment/history" "$lead"
  measure "$round" "your actions" /me/actions "$owner"
  measure "$round" "audit trail" /admin/audit "$admin"
  measure "$round" "assessment workbook (export.xlsx)" "/assessments/$assessment/export.xlsx" "$lead"
  measure "$round" "action plan workbook (actions.xlsx)" /orgs/council-001/actions.xlsx "$lead"
  measure "$round" "region's agreed scores (scores.csv)" /regions/region-1/scores.csv "$adviser"
  measure "$round" "national agreed scores (scores.xlsx)" /national/scores.xlsx "$admin"
  measure "$round" "floor (again)" /bench/floor ""
}
