#!/usr/bin/env bash
# Every check Skybridge has, in one command (`npm test`; CI runs it through .ci/run):
# installs what is missing on a fresh machine, builds, type-checks, lints, runs the
# unit and integration suites, and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1   # Electron's binary is optional; see README "Desktop app"
export SKYBRIDGE_LOG_LEVEL="${SKYBRIDGE_LOG_LEVEL:-warn}"

# --- what the tests need from the system ------------------------------------------
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v tinyproxy >/dev/null || [ -x /usr/sbin/tinyproxy ] || missing+=(tinyproxy)   # a corporate proxy for the tunnel tests
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]} (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "The tests need: ${missing[*]}. Install them (e.g. sudo apt-get install ${missing[*]}) and run again." >&2
    exit 1
  fi
fi

# --- PostgreSQL, OpenLDAP and a SOCKS wrapper for the TCP / SOCKS5 tests -----------
# Real servers and clients from Debian. Without root they cannot be installed here: those tests then skip.
tcp_missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || tcp_missing+=(postgresql)
[ -x /usr/sbin/slapd ] || tcp_missing+=(slapd)
command -v ldapsearch >/dev/null || tcp_missing+=(ldap-utils)
command -v proxychains4 >/dev/null || tcp_missing+=(proxychains4)
if ((${#tcp_missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${tcp_missing[*]} (Debian packages; the tests start their own private servers)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${tcp_missing[@]}" >/dev/null \
      || { echo "installing ${tcp_missing[*]} failed" >&2; exit 1; }
  else
    echo "note: ${tcp_missing[*]} not installed and not root: the PostgreSQL / LDAP tests will be skipped (sudo apt-get install ${tcp_missing[*]})" >&2
  fi
fi

# --- Debian's Chromium for the browser tests; Xvfb for the Electron ones where a binary exists ---
# Playwright never downloads a browser here. Without root they cannot be installed: those tests then skip.
ui_missing=()
[ -x "${SKYBRIDGE_CHROMIUM:-/usr/bin/chromium}" ] || ui_missing+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || ui_missing+=(fonts-liberation)   # else the screenshots show empty boxes for text
command -v xvfb-run >/dev/null || ui_missing+=(xvfb xauth)
if ((${#ui_missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${ui_missing[*]} (Debian packages for the end-to-end tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${ui_missing[@]}" >/dev/null \
      || { echo "installing ${ui_missing[*]} failed" >&2; exit 1; }
  else
    echo "note: ${ui_missing[*]} not installed and not root: the browser (or Electron) tests will be skipped (sudo apt-get install ${ui_missing[*]})" >&2
  fi
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# --- npm packages, exactly as locked -----------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund || { echo "npm ci failed" >&2; exit 1; }
fi

mkdir -p test-results
passed=0
failed=0
failures=()

check() { # check NAME COMMAND...: a check that is one pass or one fail
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

suite() { # suite NAME CONCURRENCY FILES...: node:test files; every test counts
  local name=$1 conc=$2; shift 2
  local log="test-results/$name.log"
  echo "== $name tests"
  if (($# == 0)); then echo "(no $name tests)"; return; fi
  # --test-force-exit: a file whose tests are done exits even if a socket was left open;
  # --test-timeout: a stuck test fails instead of hanging; `timeout`: no suite outlives its budget.
  # The counts come from the spec reporter's closing summary (a file reporter loses it on force-exit).
  timeout --kill-after=30 "${SKYBRIDGE_SUITE_TIMEOUT:-2400}" \
    node --test --test-concurrency="$conc" --test-force-exit --test-timeout=600000 \
    --test-reporter=spec "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f c
  p=$(sed -n 's/^ℹ pass \([0-9][0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^ℹ fail \([0-9][0-9]*\)$/\1/p' "$log" | tail -1)
  c=$(sed -n 's/^ℹ cancelled \([0-9][0-9]*\)$/\1/p' "$log" | tail -1)
  p=${p:-0}; f=${f:-0}; c=${c:-0}
  if ((rc != 0 && f + c == 0)); then f=1; fi   # the runner itself failed (or was stopped by the timeout)
  passed=$((passed + p)); failed=$((failed + f + c))
  ((f + c > 0)) && failures+=("$name tests ($((f + c)))")
  return 0
}

json_suite() { # json_suite NAME vitest|playwright REPORT LOG EXIT-CODE: count a JSON report; skipped tests are listed, not counted
  local name=$1 kind=$2 report=$3 log=$4 rc=$5
  local counts p f s reported=1
  [ -s "$report" ] || { reported=0; echo "($name: the runner wrote no report to $report)" | tee -a "$log"; }
  counts=$(node test/count-results.mjs "$kind" "$report")
  read -r p f s <<<"$(head -1 <<<"$counts")"
  tail -n +2 <<<"$counts" | tee -a "$log"
  # The runner itself failed (or was stopped by the timeout), or it ran and reported nothing.
  if (((rc != 0 || reported == 0) && f == 0)); then f=1; fi
  echo "($name: $p passed, $f failed, $s skipped)" | tee -a "$log"
  passed=$((passed + p)); failed=$((failed + f))
  ((f > 0)) && failures+=("$name tests ($f)")
  return 0
}

components_suite() { # the renderer's component tests: Vitest, jsdom, Testing Library
  # Absolute: Vitest resolves --outputFile against its root, renderer/.
  local log=test-results/components.log report=$PWD/test-results/components.json
  echo "== components tests"
  rm -f "$report"
  timeout --kill-after=30 "${SKYBRIDGE_COMPONENTS_TIMEOUT:-600}" \
    npx vitest run --config renderer/vite.config.ts --passWithNoTests \
    --reporter=verbose --reporter=json --outputFile.json="$report" 2>&1 | tee "$log"
  json_suite components vitest "$report" "$log" "${PIPESTATUS[0]}"
}

e2e_suite() { # Playwright: Debian's Chromium against the headless UI; the Electron app where a binary exists
  local log=test-results/e2e.log report=test-results/e2e.json
  echo "== e2e tests (screenshots in test-results/screenshots/)"
  rm -f "$report"
  local display=()
  # Electron needs an X server even for tests; Chromium runs headless without one.
  if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then display=(xvfb-run -a -s "-screen 0 1280x800x24"); fi
  timeout --kill-after=30 "${SKYBRIDGE_E2E_TIMEOUT:-900}" "${display[@]}" npx playwright test 2>&1 | tee "$log"
  json_suite e2e playwright "$report" "$log" "${PIPESTATUS[0]}"
}

rm -rf dist
check "build and type-check (agent, relay, CLI, tests)" npx tsc -p tsconfig.json
check "build and type-check Electron shell" npx tsc -p electron/tsconfig.json
check "type-check renderer" npx tsc -p renderer/tsconfig.json --noEmit
check "type-check end-to-end tests" npx tsc -p test/e2e/tsconfig.json
check "lint (incl. folder boundaries)" npx eslint .
check "build renderer (Vite)" npm run --silent build:renderer

shopt -s nullglob
suite unit 2 dist/test/unit/*.test.js
suite integration 1 dist/test/integration/*.test.js
components_suite
e2e_suite

echo
if ((failed > 0)); then echo "Failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
