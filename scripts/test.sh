#!/usr/bin/env bash
# The whole test suite: `npm test` runs this.
#
#   1. checks the test peers (kcat, Debian's python3-confluent-kafka, etcd, tmux, openssl, PostgreSQL, promtool); installs the missing
#      ones with apt-get when running as root, otherwise stops and prints the command to run;
#   2. builds dist/ (the binary tests run bin/run.js) and type-checks everything (src, test, bench,
#      scripts) in strict mode; either failing stops here, before any test runs;
#   3. runs vitest with NO_COLOR=1, KCLI_TEST_DIST=1 (child processes run dist/) and its JSON
#      reporter, twice and at the same time (one after the other with KCLI_TEST_SERIAL=1): the
#      project 'unit' (test/lib, test/server, test/commands, test/streams; vitest.config.ts) with
#      --no-isolate, its files one after another in one process, and the project 'e2e' with a
#      process per file; the two reports are merged into .vitest-results.json;
#   4. prints `N passed, N failed` from that JSON file as the last line.
#
# Exits non-zero when a test fails, when a test file fails to load, when vitest crashes or writes
# no results, or when no test ran. Extra arguments go to vitest (`npm test -- test/lib/cli`).
#
#   scripts/test.sh --install-peers     step 1 only
#   scripts/test.sh --summary [FILE]    step 4 only, for .ci/run

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESULTS=.vitest-results.json
PEER_PACKAGES=(kcat python3-confluent-kafka etcd-server tmux openssl postgresql prometheus)
# Debian's python3-confluent-kafka is importable only by Debian's own python; another python3 may
# come first on PATH. Tests use /usr/bin/python3 explicitly, and so does this check.
SYSTEM_PYTHON=/usr/bin/python3

missing_peers() {
  local missing=()
  command -v kcat >/dev/null 2>&1 || missing+=(kcat)
  "$SYSTEM_PYTHON" -c 'import confluent_kafka' >/dev/null 2>&1 || missing+=(python3-confluent-kafka)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  # tmux drives the interactive-prompt tests in a real terminal.
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  # openssl makes the certificates of the TLS tests.
  [[ -x /usr/bin/openssl ]] || missing+=(openssl)
  # PostgreSQL's server binaries (initdb, postgres): the Connect tests run a private instance.
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  # Prometheus' promtool checks and unit-tests deploy/prometheus's alert rules (the server the
  # package also installs is not used; on a host with systemd it starts as a service on :9090).
  [[ -x /usr/bin/promtool ]] || missing+=(prometheus)
  echo "${missing[@]}"
}

install_peers() {
  local missing
  missing=$(missing_peers)
  [[ -z "$missing" ]] && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing test peers: $missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${PEER_PACKAGES[@]}" >&2
    missing=$(missing_peers)
    [[ -z "$missing" ]] && return 0
    echo "test.sh: still missing after apt-get: $missing" >&2
  fi
  echo "test.sh: missing test peers: $missing. Install them with:" >&2
  echo "  sudo apt-get install -y ${PEER_PACKAGES[*]}" >&2
  return 1
}

# Prints `N passed, N failed` (`, N skipped` when some were) from vitest's JSON report; returns 1
# if the report is missing or unreadable, if anything failed, or if no test ran.
summarize() {
  local file=${1:-$RESULTS}
  node - "$file" <<'EOF'
const fs = require('node:fs')
const file = process.argv[2]
let report
try {
  report = JSON.parse(fs.readFileSync(file, 'utf8'))
} catch (error) {
  console.error(`test.sh: no readable vitest results in ${file} (${error.code ?? error.message}): vitest crashed or did not run`)
  console.log('0 passed, 0 failed')
  process.exit(1)
}
const passed = report.numPassedTests ?? 0
// A test file that fails to load has no failed test, only a failed file: count it as a failure.
const brokenFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
)
for (const file of brokenFiles) console.error(`test.sh: ${file.name} failed to run: ${String(file.message ?? '').split('\n')[0]}`)
const failed = (report.numFailedTests ?? 0) + brokenFiles.length
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
if (passed + failed === 0) console.error('test.sh: no test ran')
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0)
EOF
}

case "${1:-}" in
  --install-peers)
    install_peers
    exit
    ;;
  --summary)
    summarize "${2:-}"
    exit
    ;;
esac

rm -f "$RESULTS"
install_peers || exit 1

if [[ ! -d node_modules ]]; then
  echo "test.sh: node_modules is missing; run: npm install" >&2
  exit 1
fi

npm run --silent build || {
  echo "test.sh: the build failed (npm run build); no test ran" >&2
  exit 1
}
npm run --silent typecheck || {
  echo "test.sh: type errors (npm run typecheck); no test ran" >&2
  exit 1
}

# The tests' child processes (brokers, workers) run the dist/ just built, not the sources through tsx
# (test/e2e/harness.ts KCLI_NODE_ARGS): a broker starts in 0.4 s instead of 2 s.
# Two runs, because vitest's isolation is one setting per run (vitest 3 cannot set it per project).
# Without isolation the unit files' imports happen once instead of once per file: test/lib and
# test/server took 170 s isolated and 91 s shared, test/commands 101 and 74 s, test/streams 78 and 71 s.
vitest_status=0
parts=(.vitest-results.unit.json .vitest-results.e2e.json)
rm -f "${parts[@]}"
run_vitest() { # $1 = project, $2 = report file, the rest: vitest's arguments
  local project=$1 part=$2
  shift 2
  NO_COLOR=1 KCLI_TEST_DIST=1 npx --no-install vitest run --project "$project" --passWithNoTests \
    --reporter=default --reporter=json --outputFile.json="$part" "$@"
}
if [[ ${KCLI_TEST_SERIAL:-} == 1 ]]; then
  run_vitest unit "${parts[0]}" --no-isolate "$@" || vitest_status=$?
  run_vitest e2e "${parts[1]}" "$@" || vitest_status=$?
else
  # The two at once: the end-to-end tests mostly wait (processes starting, timeouts, fsyncs) while
  # the unit tests mostly compute (whole suite 16 min 18 s one after the other, 12 min 37 s at
  # once; e2e 702 -> 716 s, unit 233 -> 266 s). The unit run's output is shown when it ends.
  unit_log=$(mktemp)
  run_vitest unit "${parts[0]}" --no-isolate "$@" > "$unit_log" 2>&1 &
  unit_pid=$!
  run_vitest e2e "${parts[1]}" "$@" || vitest_status=$?
  wait "$unit_pid" || vitest_status=$?
  cat "$unit_log"
  rm -f "$unit_log"
fi
# One report: counts added, files listed together; a missing part (vitest crashed) leaves none.
node - "$RESULTS" "${parts[@]}" <<'EOF'
const fs = require('node:fs')
const [out, ...parts] = process.argv.slice(2)
const reports = []
for (const part of parts) {
  try {
    reports.push(JSON.parse(fs.readFileSync(part, 'utf8')))
  } catch (error) {
    console.error(`test.sh: no readable vitest results in ${part} (${error.code ?? error.message})`)
    process.exit(0)
  }
}
const merged = {...reports[0], testResults: reports.flatMap((r) => r.testResults ?? []), success: reports.every((r) => r.success !== false)}
for (const [key, value] of Object.entries(reports[0])) {
  if (typeof value === 'number' && key !== 'startTime') merged[key] = reports.reduce((n, r) => n + (r[key] ?? 0), 0)
}
fs.writeFileSync(out, JSON.stringify(merged))
for (const part of parts) fs.rmSync(part, {force: true})
EOF

summary_status=0
summary=$(summarize "$RESULTS") || summary_status=$?
if [[ $vitest_status -ne 0 && $summary_status -eq 0 ]]; then
  echo "test.sh: vitest exited with status $vitest_status (an unhandled error?) although no test failed" >&2
  summary_status=1
fi
echo "$summary"
exit "$summary_status"
