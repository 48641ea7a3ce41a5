#!/usr/bin/env bash
# Build the two container images the integration tests run nginx and Apache in.
#
#   bash integration/build-images.sh [--rebuild]
#
# Image names (env, with defaults):
#   CORSGEN_BASE_IMAGE   debian:bookworm-slim
#   CORSGEN_NGINX_IMAGE  corsgen-test-nginx:bookworm
#   CORSGEN_APACHE_IMAGE corsgen-test-apache:bookworm
#
# Where no image registry is reachable, the base image is made locally with
# debootstrap from the Debian mirror apt already uses, with nginx-light and
# apache2 included, so the Dockerfiles' apt-get step is skipped.
# Idempotent: images that exist are kept unless --rebuild is given.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_IMAGE="${CORSGEN_BASE_IMAGE:-debian:bookworm-slim}"
NGINX_IMAGE="${CORSGEN_NGINX_IMAGE:-corsgen-test-nginx:bookworm}"
APACHE_IMAGE="${CORSGEN_APACHE_IMAGE:-corsgen-test-apache:bookworm}"
SUITE=bookworm

REBUILD=0
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (only --rebuild)" >&2; exit 2 ;;
    esac
done

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! docker info >/dev/null 2>&1; then
    echo "no Docker engine answers; run: bash integration/start-dockerd.sh" >&2
    exit 1
fi

# The first http(s) mirror in apt's own sources (deb822 or one-line format).
debian_mirror() {
    local files=() uri
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] && files+=("$f")
    done
    for f in "${files[@]}"; do
        if [[ "$f" == *.sources ]]; then
            # deb822: pick the URIs of a stanza whose Suites has the plain suite.
            uri="$(awk -v suite="$SUITE" '
                /^[[:space:]]*$/ { if (u != "" && s) { print u; exit } u = ""; s = 0; next }
                /^URIs:/ { u = $2 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) s = 1 }
                END { if (u != "" && s) print u }' "$f" | head -n1)"
        else
            uri="$(awk -v suite="$SUITE" '$1 == "deb" {
                    for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { if ($(i+1) == suite) { print $i; exit } }
                }' "$f" | head -n1)"
        fi
        if [[ -n "$uri" ]]; then echo "$uri"; return 0; fi
    done
    echo "http://deb.debian.org/debian"
}

make_base_image() {
    if ! command -v debootstrap >/dev/null; then
        echo "cannot pull $BASE_IMAGE and debootstrap is missing: apt-get install debootstrap" >&2
        exit 1
    fi
    local mirror dir
    mirror="$(debian_mirror)"
    dir="$(mktemp -d /tmp/corsgen-rootfs.XXXXXX)"
    # Remove the root file system however this function ends.
    trap 'rm -rf "$dir"' EXIT
    echo "making $BASE_IMAGE with debootstrap from $mirror"
    debootstrap --variant=minbase --include=nginx-light,apache2 \
        "$SUITE" "$dir" "$mirror" >/tmp/corsgen-debootstrap.log 2>&1 || {
        echo "debootstrap failed; last lines of /tmp/corsgen-debootstrap.log:" >&2
        tail -n 30 /tmp/corsgen-debootstrap.log >&2
        exit 1
    }
    # Keep the image small: apt lists and the package cache are not needed.
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE"
    rm -rf "$dir"
    trap - EXIT
}

if [[ $REBUILD == 1 ]] || ! have_image "$BASE_IMAGE"; then
    if [[ $REBUILD == 0 ]] && timeout 60 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "pulled $BASE_IMAGE"
    else
        make_base_image
    fi
else
    echo "base image $BASE_IMAGE exists"
fi

build() {
    local image="$1" context="$2"
    if [[ $REBUILD == 0 ]] && have_image "$image"; then
        echo "image $image exists"
        return 0
    fi
    echo "building $image"
    # --network host: the bridge network is disabled on these machines (see
    # start-dockerd.sh) and apt-get inside the build may need the mirror.
    docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        -t "$image" "$context"
}

build "$NGINX_IMAGE" "$HERE/images/nginx"
build "$APACHE_IMAGE" "$HERE/images/apache"
echo "images ready: $NGINX_IMAGE $APACHE_IMAGE (base $BASE_IMAGE)"
