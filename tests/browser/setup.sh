#!/usr/bin/env bash
# Prepare the browser test rig: Debian's chromium, playwright-core and the
# Tryton web client sao 8.0 (unpacked in ./sao with its own node_modules).
# Idempotent: a second run only checks what is there.
#
# Environment:
#   CHROMIUM   path of the browser (default /usr/bin/chromium)
#   FORCE=1    reinstall playwright-core and sao even if they look ready
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
FORCE="${FORCE:-0}"
# Never let anything download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PUPPETEER_SKIP_DOWNLOAD=1
NPM_FLAGS=(--no-audit --no-fund --loglevel=warn)

log() { printf '[setup] %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root to run: $*" >&2
        return 1
    fi
}

# 1. The browser (Debian package, not a download of playwright's).
if [ ! -x "$CHROMIUM" ]; then
    log "installing Debian chromium"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends chromium
fi
log "browser: $("$CHROMIUM" --version 2>/dev/null | head -n1)"

command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is missing" >&2; exit 1; }

pkg_field() {  # pkg_field FILE EXPR -> value of require(FILE)EXPR or ''
    node -e 'try { const p = require(process.argv[1]);
                   const v = eval("p" + process.argv[2]);
                   process.stdout.write(v === undefined ? "" : String(v)); }
             catch (e) {}' "$1" "$2"
}

# 2. playwright-core, exactly as in package-lock.json.
want_pw="$(pkg_field ./package.json '.dependencies["playwright-core"]')"
have_pw="$(pkg_field ./node_modules/playwright-core/package.json '.version')"
if [ "$FORCE" = 1 ] || [ "$have_pw" != "$want_pw" ]; then
    log "installing playwright-core $want_pw"
    if [ -f package-lock.json ]; then
        npm ci "${NPM_FLAGS[@]}"
    else
        npm install "${NPM_FLAGS[@]}"
    fi
fi
log "playwright-core: $(pkg_field ./node_modules/playwright-core/package.json '.version')"

# 3. sao: the npm package unpacked in ./sao, with its runtime dependencies
#    in ./sao/node_modules (index.html loads them from there).
sao_spec="$(pkg_field ./package.json '.config.sao')"            # tryton-sao@X.Y.Z
sao_integrity="$(pkg_field ./package.json '.config.saoIntegrity')"
sao_version="${sao_spec##*@}"
lock_sum="$(sha256sum sao.package-lock.json | cut -d' ' -f1)"
stamp="$sao_spec $sao_integrity $lock_sum"
if [ "$FORCE" = 1 ] || [ ! -f sao/.setup-stamp ] \
        || [ "$(cat sao/.setup-stamp)" != "$stamp" ] \
        || [ ! -f sao/dist/tryton-sao.js ] \
        || [ ! -f sao/node_modules/jquery/dist/jquery.js ]; then
    log "preparing $sao_spec in $HERE/sao"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack "$sao_spec" --json --loglevel=warn > pack.json)
    got_integrity="$(pkg_field "$tmp/pack.json" '[0].integrity')"
    tarball="$tmp/$(pkg_field "$tmp/pack.json" '[0].filename')"
    if [ -n "$sao_integrity" ] && [ "$got_integrity" != "$sao_integrity" ]; then
        echo "integrity mismatch for $sao_spec: $got_integrity" >&2
        exit 1
    fi
    tar xzf "$tarball" -C "$tmp"
    rm -rf sao
    mv "$tmp/package" sao
    if [ -f sao.package-lock.json ]; then
        cp sao.package-lock.json sao/package-lock.json
        (cd sao && npm ci --omit=dev --legacy-peer-deps --ignore-scripts \
            "${NPM_FLAGS[@]}")
    else
        (cd sao && npm install --omit=dev --legacy-peer-deps --ignore-scripts \
            "${NPM_FLAGS[@]}")
        cp sao/package-lock.json sao.package-lock.json
        log "wrote sao.package-lock.json: commit it"
        lock_sum="$(sha256sum sao.package-lock.json | cut -d' ' -f1)"
        stamp="$sao_spec $sao_integrity $lock_sum"
    fi
    echo "$stamp" > sao/.setup-stamp
fi
have_sao="$(pkg_field ./sao/package.json '.version')"
if [ "$have_sao" != "$sao_version" ]; then
    echo "sao is $have_sao, expected $sao_version" >&2
    exit 1
fi
log "sao: $have_sao in $HERE/sao (use it as trytond's [web] root)"
