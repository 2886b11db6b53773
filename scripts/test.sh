#!/usr/bin/env bash
# The whole test suite: static checks, Go tests with the race detector, the
# Python SDK tests and the browser tests. Installs what the tests need
# (Debian packages, npm packages) when it is missing. CI runs exactly this.
#
#   ./scripts/test.sh            everything
#   LUMA_TEST_SKIP=browser,python ./scripts/test.sh   skip parts (local use)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

skip() { [[ ",${LUMA_TEST_SKIP:-}," == *",$1,"* ]]; }
step() { printf '\n== %s\n' "$*"; }

# --- set-up ---------------------------------------------------------------
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

debs=(python3 poppler-utils)
skip browser || debs+=(chromium chromium-driver)
apt_install "${debs[@]}"

# --- static checks --------------------------------------------------------
step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
step "go vet"
go vet ./...
step "staticcheck"
go tool staticcheck ./...

# --- Go tests -------------------------------------------------------------
step "go test -race"
go build -o "$root/bin/luma" ./cmd/luma
LUMA_BIN="$root/bin/luma" go test -race -timeout 20m -count=1 ./...

# --- Python SDK -----------------------------------------------------------
if ! skip python && [ -d sdk/python/tests ]; then
  step "Python SDK tests (unittest against the real binary)"
  LUMA_BIN="$root/bin/luma" python3 -m unittest discover -s sdk/python/tests -t sdk/python -v
fi

# --- browser tests --------------------------------------------------------
if ! skip browser && [ -f web/e2e/package.json ]; then
  step "browser tests (Playwright + Debian Chromium)"
  (cd web/e2e && npm ci --no-audit --no-fund --loglevel=error && LUMA_BIN="$root/bin/luma" node run.mjs)
fi

step "all tests passed"
