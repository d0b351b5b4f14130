#!/bin/sh
# Builds the static probe for Linux.
#
# Usage: build.sh GOARCH OUT [VERSION]
#   GOARCH   amd64 or arm64 (BuildKit's TARGETARCH)
#   OUT      path of the binary to write
#   VERSION  string reported by --version; default: dev
set -eu

if [ "$#" -lt 2 ] || [ "$#" -gt 3 ]; then
	echo "usage: $0 GOARCH OUT [VERSION]" >&2
	exit 2
fi
arch=$1
out=$2
version=${3:-dev}
case "$arch" in
amd64 | arm64) ;;
*)
	echo "error: GOARCH must be amd64 or arm64, got '$arch'" >&2
	exit 2
	;;
esac
case "$out" in
/*) ;;
*) out="$(pwd)/$out" ;;
esac

cd "$(dirname "$0")"
CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOTOOLCHAIN=local \
	go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out" .
