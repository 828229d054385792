#!/bin/sh
# Install lifecycle step of the lookout-edge Greengrass components (Inspector and ModelServer).
#
#   install.sh <app dir> <work dir>
#
# <app dir> is the unarchived artifact ({artifacts:decompressedPath}/lookout-edge-linux-<arch>, read-only); it
# carries its own Node.js runtime (runtime/bin/node) and every native module prebuilt for its CPU, so nothing is
# compiled or downloaded here. <work dir> is the component's {work:path}. Steps:
#   1. the device's CPU is the one the archive was built for, and its glibc is new enough for the runtime
#      (NVIDIA JetPack 4.x, Ubuntu 18.04, has glibc 2.27: not supported; JetPack 5.1+ and 6 are);
#   2. the shipped node runs, and every native module loads in it (lifecycle/check-native.cjs);
#   3. writes <work dir>/bin/lookout-edge, a launcher other components' lifecycle steps may call (a model
#      component's Install runs `model verify` through the model server's launcher).
# Any failure fails the deployment with the reason on stderr (the nucleus then rolls the deployment back).
set -u
APP="$1"
WORK="$2"

say() { echo "lookout-edge install: $*"; }
fail() { echo "lookout-edge install: $*" >&2; exit 1; }

[ -f "$APP/runtime/PLATFORM" ] || fail "$APP/runtime/PLATFORM is missing: the archive is incomplete"
. "$APP/runtime/PLATFORM"

MACHINE=$(uname -m)
[ "$MACHINE" = "$BUILT_MACHINE" ] || fail "this archive is for $BUILT_MACHINE but the device is $MACHINE: the recipe's platform manifests are wrong, or the component was built for one architecture only (npm run build:component -- --arch all)"

GLIBC=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -z "$GLIBC" ]; then
  fail "no GNU C library found (getconf GNU_LIBC_VERSION): the shipped Node.js $BUILT_NODE needs glibc >= $MIN_GLIBC (musl-based systems such as Alpine are not supported)"
fi
older=$(printf '%s\n%s\n' "$MIN_GLIBC" "$GLIBC" | sort -t. -k1,1n -k2,2n | head -n1)
if [ "$older" != "$MIN_GLIBC" ]; then
  fail "glibc $GLIBC is too old: the shipped Node.js $BUILT_NODE needs glibc >= $MIN_GLIBC. NVIDIA JetPack 4.x (Ubuntu 18.04) is not supported; upgrade to JetPack 5.1 or later (Ubuntu 20.04+)"
fi

NODE="$APP/runtime/bin/node"
VERSION=$("$NODE" -p 'process.versions.node' 2>&1) || fail "the shipped Node.js does not run on this device: $VERSION"
say "node $VERSION (shipped), $MACHINE, glibc $GLIBC"

"$NODE" "$APP/lifecycle/check-native.cjs" "$APP" || fail "a native module does not load on this device (see above)"

mkdir -p "$WORK/bin" || fail "cannot create $WORK/bin"
LAUNCHER="$WORK/bin/lookout-edge"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NODE" "$APP/bin/lookout-edge.js" > "$LAUNCHER.tmp" && chmod 0755 "$LAUNCHER.tmp" && mv "$LAUNCHER.tmp" "$LAUNCHER" \
  || fail "cannot write $LAUNCHER"
say "ready: $LAUNCHER"
