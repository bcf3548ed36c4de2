#!/usr/bin/env bash
# Builds the fini-server container image (make image): static binaries built here with the
# Go toolchain, a minimal root file system around them in bin/image/, then the Containerfile
# with podman, or buildah when podman is missing (Debian's podman is installed when neither
# is and we are root). Nothing is pulled: the image starts FROM scratch.
#
# Environment (make image sets the first two):
#   IMAGE      repository, default localhost/fini-conversations; tagged :VERSION and :latest
#   VERSION    the version stamped, labelled and tagged (a semantic version such as v1.3.0);
#              default the tag vX.Y.Z at HEAD, else Go's pseudo-version of HEAD
#   CONTEXT    the build context directory, default bin/image
# The labels' revision and creation time are HEAD's commit and its commit time, which is
# also the image's creation time and every file's time (--timestamp). --layers=false keeps no
# intermediate image per instruction: with no RUN step there is nothing worth caching.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/fini-conversations}
# The binaries are stamped as make release stamps them (one definition of the version: the
# tag vX.Y.Z at HEAD, else Go's pseudo-version of HEAD, +dirty for uncommitted changes).
LDFLAGS=$(go run ./scripts/release -print-ldflags ${VERSION:+-version "$VERSION"})
VERSION=$(sed -n 's|.*/internal/version.version=\([^ ]*\).*|\1|p' <<<"$LDFLAGS")
TAG=${VERSION//+/-} # a tag may not hold "+"
CONTEXT=${CONTEXT:-bin/image}
SOURCE=https://github.com/fini-oss/conversations
REVISION=$(git rev-parse HEAD)
EPOCH=$(git log -1 --format=%ct HEAD)
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)
# The user the server runs as: not root, and the number distroless images use.
UID_GID=65532

# apt_install installs Debian packages when we are root, or says what to install.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "make image needs $*: install them (Debian: sudo apt-get install $*)" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v podman >/dev/null && ! command -v buildah >/dev/null; then
	apt_install podman
fi
builder=$(command -v podman || command -v buildah)
ca=/etc/ssl/certs/ca-certificates.crt
if ! [ -f "$ca" ]; then
	apt_install ca-certificates
fi

rm -rf "$CONTEXT"
root=$CONTEXT/rootfs
mkdir -p "$root/usr/local/bin" "$root/usr/share/doc/fini" "$root/etc/ssl/certs" "$root/tmp" "$CONTEXT/datafs/data"
# Static (no cgo: the SQLite driver is pure Go), no build paths, no build id: the same commit
# builds the same binaries, stamped with the version (fini-server --version, /healthz).
CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false -ldflags="$LDFLAGS" -o "$root/usr/local/bin/" ./cmd/fini-server ./cmd/fini
cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
# The licences a binary distribution must carry: ours, and Go's and each linked module's, as
# make release puts them in each archive.
cp LICENSE "$root/usr/share/doc/fini/LICENSE"
go run ./scripts/release -platform "linux/$(go env GOARCH)" -write-notices "$root/usr/share/doc/fini/THIRD_PARTY_NOTICES" \
	"$root/usr/local/bin/fini-server" "$root/usr/local/bin/fini"
printf 'root:x:0:0:root:/root:/sbin/nologin\nfini:x:%s:%s:fini-server:/data:/sbin/nologin\n' "$UID_GID" "$UID_GID" >"$root/etc/passwd"
printf 'root:x:0:\nfini:x:%s:\n' "$UID_GID" >"$root/etc/group"
chmod 0755 "$root/usr/local/bin/"*
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/ssl/certs/ca-certificates.crt" "$root/usr/share/doc/fini/"*
chmod 0755 "$root/usr/share" "$root/usr/share/doc" "$root/usr/share/doc/fini"
chmod 1777 "$root/tmp"
chmod 0700 "$CONTEXT/datafs/data"

"$builder" build --quiet --format docker --layers=false --identity-label=false --timestamp "$EPOCH" --file Containerfile \
	--build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
	--build-arg CREATED="$CREATED" --build-arg SOURCE="$SOURCE" \
	--tag "$IMAGE:$TAG" --tag "$IMAGE:latest" "$CONTEXT" >/dev/null
echo "built $IMAGE:$TAG (and :latest), version $VERSION, with $(basename "$builder"), revision $REVISION, created $CREATED"
