#!/bin/sh
# Install lifecycle step of the lookout-edge Greengrass components (Inspector and ModelServer).
#
#   install.sh <app dir> <native dir> <component version>
#
# <app dir> is the unarchived artifact ({artifacts:decompressedPath}/lookout-edge, read-only);
# <native dir> is writable ({work:path}/native). Steps:
#   1. Node.js >= 20 must be on the PATH of the Greengrass service (Greengrass ships no Node runtime).
#   2. The native modules must load for this Node and CPU (lifecycle/check-native.cjs).
#   3. When only better-sqlite3 does not load (no binary for this CPU, or a Node with another ABI), the app
#      is copied to <native dir>/<version>/lookout-edge and `npm rebuild better-sqlite3` runs there:
#      prebuild-install fetches better-sqlite3's prebuilt binary from GitHub when the device is online,
#      otherwise node-gyp compiles it (needs python3, make and g++). The Run step then starts that copy.
set -u
APP="$1"
NATIVE="$2"
VERSION="$3"
TARGET="$NATIVE/$VERSION"

say() { echo "lookout-edge install: $*"; }
fail() { echo "lookout-edge install: $*" >&2; exit 1; }

if ! command -v node >/dev/null 2>&1; then
  fail "Node.js >= 20 is required on this device and Greengrass ships none. Install it system-wide (a Debian/Ubuntu package from NodeSource, or the nodejs.org linux-$(uname -m) build in /usr/local) so that \`node\` is on the PATH of the Greengrass service. PATH here: $PATH"
fi
NODE_VERSION=$(node -p 'process.versions.node' 2>/dev/null) || fail "$(command -v node) does not run"
NODE_MAJOR=${NODE_VERSION%%.*}
if ! [ "$NODE_MAJOR" -ge 20 ] 2>/dev/null; then
  fail "Node.js >= 20 is required; $(command -v node) is version $NODE_VERSION. Upgrade Node.js on this device."
fi
say "node $NODE_VERSION at $(command -v node), cpu $(uname -m)"

# Rebuilds made for other component versions are no longer needed.
if [ -d "$NATIVE" ]; then
  for old in "$NATIVE"/*; do
    [ -e "$old" ] || continue
    [ "$old" = "$TARGET" ] || rm -rf "$old"
  done
fi

node "$APP/lifecycle/check-native.cjs" "$APP"
rc=$?
if [ "$rc" -eq 0 ]; then
  rm -rf "$TARGET"
  say "native modules load; ready"
  exit 0
fi
if [ "$rc" -ne 2 ]; then
  fail "a native module does not load with Node $NODE_VERSION on $(uname -m) (see above). Was the component built for this architecture (npm run build:component -- --arch x64|arm64)?"
fi

if [ -f "$TARGET/.ready" ] && node "$APP/lifecycle/check-native.cjs" "$TARGET/lookout-edge" >/dev/null 2>&1; then
  say "using better-sqlite3 rebuilt earlier in $TARGET"
  exit 0
fi
command -v npm >/dev/null 2>&1 || fail "better-sqlite3 has no binary for Node $NODE_VERSION on $(uname -m), and npm (shipped with Node.js) is missing to rebuild it"
say "better-sqlite3 has no binary for Node $NODE_VERSION on $(uname -m); rebuilding it in $TARGET"
rm -rf "$TARGET"
mkdir -p "$TARGET" || fail "cannot create $TARGET"
cp -R "$APP" "$TARGET/lookout-edge" || fail "cannot copy the app to $TARGET"
chmod -R u+w "$TARGET/lookout-edge"
# The component user usually has no home directory: keep npm's cache beside the copy.
( cd "$TARGET/lookout-edge" && npm_config_cache="$TARGET/.npm-cache" npm rebuild better-sqlite3 --no-audit --no-fund ) \
  || fail "npm rebuild better-sqlite3 failed (see above): the device needs internet access to GitHub for the prebuilt binary, or python3, make and g++ to compile it"
rm -rf "$TARGET/.npm-cache"
node "$APP/lifecycle/check-native.cjs" "$TARGET/lookout-edge" || fail "better-sqlite3 still does not load after the rebuild"
touch "$TARGET/.ready"
say "better-sqlite3 rebuilt; the component runs from $TARGET/lookout-edge"
