#!/usr/bin/env bash
# scripts/free-threaded.sh -- a free-threaded CPython 3.13 ("3.13t", built with
# --disable-gil) for running goroutines' tests and benchmarks with real parallelism.
#
# WHAT IT DOES
#   1. Installs the C build dependencies from Debian packages (apt-get; only the
#      missing ones, and only then runs `apt-get update`).
#   2. Downloads Debian's `python3.13` SOURCE package with a private, throw-away
#      apt configuration (its own deb-src list, lists dir and cache dir under a
#      temp dir), so the machine's apt setup is left untouched.  The newest
#      version that the archive actually serves is used (override with
#      GOROUTINES_FT_DEBIAN_VERSION=3.13.15-1).  We build the pristine upstream
#      tarball inside it (python3.13_X.orig.tar.xz == Python-X.tar.xz): Debian's
#      own patches adapt CPython to Debian's /usr layout (dist-packages, no
#      ensurepip, ...) and are not wanted for a private --prefix install.
#   3. ./configure --disable-gil --prefix=<cache>/python3.13t --with-ensurepip=install
#      make -j<cores> && make install
#   4. Creates a virtualenv at <cache>/venv on it, with greenlet pinned to 3.5.3
#      (on 3.13t only greenlet 3.3.2-3.5.3 both builds and keeps the GIL off) and
#      this repository installed editable with its [test] extra.
#
# WHERE
#   Cache: ${GOROUTINES_FT_CACHE:-$HOME/.cache/goroutines-ft}
#     python3.13t/   the interpreter (bin/python3.13t); if that binary exists the
#                    interpreter build is skipped, so the script is idempotent
#     venv/          the virtualenv used by `test` and `python`
#     src/           the downloaded source package (kept; ~23 MB)
#     logs/          configure/make/pip logs of the last build
#   The build tree itself is deleted after a successful install.
#
# HOW LONG
#   First `build`: about 3-5 minutes on 2 cores (download a few seconds, configure
#   ~30 s, make ~2-3 min, make install ~1 min incl. compiling the stdlib,
#   greenlet from source ~30 s).  Afterwards every command starts in a second or
#   two; the editable install is redone only when pyproject.toml or the
#   repository path changes.
#
# USAGE (works from any directory)
#   scripts/free-threaded.sh build              build interpreter + venv (if needed)
#   scripts/free-threaded.sh test [pytest args] build if needed, then run the test
#                                               suite from the repo root with
#                                               GOMAXPROCS=2 PYTHON_GIL=0
#   scripts/free-threaded.sh python [args]      run the venv's python (benchmarks);
#                                               PYTHON_GIL is left as you set it
#   scripts/free-threaded.sh interpreter        build the interpreter only (if needed,
#                                               not the cache's venv); print its path
#   scripts/free-threaded.sh venv DIR           build the interpreter if needed; make a
#                                               fresh venv in DIR (deleting what is
#                                               there) installed as the cache's venv is
#                                               (.ci/run uses these two, so that CI never
#                                               touches the cache's venv)
#   scripts/free-threaded.sh clean              delete the whole cache
#
# Needs root (or sudo) only when build dependencies are missing.
set -euo pipefail

SCRIPT_DIR="$(cd -P -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)"
REPO_ROOT="$(cd -P -- "$SCRIPT_DIR/.." && pwd)"

CACHE="${GOROUTINES_FT_CACHE:-$HOME/.cache/goroutines-ft}"
PREFIX="$CACHE/python3.13t"
FT_PYTHON="$PREFIX/bin/python3.13t"
VENV="$CACHE/venv"
VENV_PYTHON="$VENV/bin/python"
STAMP="$VENV/.goroutines-install-stamp"
LOGS="$CACHE/logs"
GREENLET_VERSION="3.5.3"
SRC_PACKAGE="python3.13"

# Debian packages needed to build CPython with the usual stdlib extension modules.
BUILD_DEPS=(
    build-essential pkg-config xz-utils ca-certificates debian-archive-keyring
    libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev
    libreadline-dev libncurses-dev libgdbm-dev uuid-dev libexpat1-dev
)

log() { printf '[free-threaded] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Run a long step with its output in a log file; on failure show the tail
# and return non-zero (callers decide whether to clean up before dying).
run_logged() {
    local name="$1"; shift
    log "$name ... (log: $LOGS/$name.log)"
    if ! "$@" >"$LOGS/$name.log" 2>&1; then
        tail -n 40 "$LOGS/$name.log" >&2 || true
        log "$name failed; full log in $LOGS/$name.log"
        return 1
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*"
    fi
}

install_build_deps() {
    local missing=() pkg
    for pkg in "${BUILD_DEPS[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]})); then
        log "installing build dependencies: ${missing[*]}"
        as_root apt-get update -q >/dev/null
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# Download the python3.13 source package into $CACHE/src with a private apt
# configuration; prints the path of the upstream (.orig) tarball.
fetch_source() {
    local srcdir="$CACHE/src" tarball
    mkdir -p "$srcdir"
    tarball="$(find "$srcdir" -maxdepth 1 -name "${SRC_PACKAGE}_*.orig.tar.xz" | sort -V | tail -n 1)"
    if [[ -n "$tarball" ]]; then
        log "using downloaded source $tarball"
        printf '%s\n' "$tarball"
        return
    fi

    local apt_tmp
    apt_tmp="$(mktemp -d)"
    # shellcheck disable=SC2064  # expand now: apt_tmp is local
    trap "rm -rf '$apt_tmp'" RETURN
    mkdir -p "$apt_tmp/lists/partial" "$apt_tmp/cache/archives/partial"
    # sid (unstable) carries the newest 3.13.x; trixie is the fallback in case
    # sid drops python3.13 once a newer Python becomes Debian's default.
    cat >"$apt_tmp/sources.list" <<'EOF'
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
EOF
    local apt_opts=(
        -o "Dir::Etc::sourcelist=$apt_tmp/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$apt_tmp/lists"
        -o "Dir::Cache=$apt_tmp/cache"
        -o "APT::Get::List-Cleanup=0"
        -o "APT::Sandbox::User=root"
    )
    log "fetching the $SRC_PACKAGE source index (private apt lists)"
    apt-get "${apt_opts[@]}" -q update >"$LOGS/apt-update.log" 2>&1 \
        || { cat "$LOGS/apt-update.log" >&2; die "apt-get update (private deb-src list) failed"; }

    # The index can name a version whose files the archive no longer (or not
    # yet) serves, so try versions newest first until one downloads.
    local versions version
    if [[ -n "${GOROUTINES_FT_DEBIAN_VERSION:-}" ]]; then
        versions="$GOROUTINES_FT_DEBIAN_VERSION"
    else
        versions="$(apt-cache "${apt_opts[@]}" showsrc "$SRC_PACKAGE" \
            | awk -v p="$SRC_PACKAGE" '/^Package:/ {pkg = $2} /^Version:/ && pkg == p {print $2}' \
            | sort -u -r -V)"
    fi
    [[ -n "$versions" ]] || die "no $SRC_PACKAGE source package found"
    for version in $versions; do
        case "$version" in 3.13.*) ;; *) continue ;; esac
        log "downloading source package $SRC_PACKAGE=$version"
        if (cd "$srcdir" && apt-get "${apt_opts[@]}" -q source --download-only \
                "$SRC_PACKAGE=$version") >"$LOGS/apt-source.log" 2>&1; then
            tarball="$srcdir/${SRC_PACKAGE}_${version%-*}.orig.tar.xz"
            [[ -f "$tarball" ]] || die "download succeeded but $tarball is missing"
            printf '%s\n' "$tarball"
            return
        fi
        log "  $version not downloadable, trying an older one"
        rm -f "$srcdir/${SRC_PACKAGE}_${version%-*}"* 2>/dev/null || true
    done
    cat "$LOGS/apt-source.log" >&2
    die "could not download any version of $SRC_PACKAGE ($(tr "\n" " " <<<"$versions"))"
}

build_interpreter() {
    if [[ -x "$FT_PYTHON" ]]; then
        if [[ "${VERBOSE_SKIP:-0}" == 1 ]]; then
            log "interpreter exists: $FT_PYTHON ($("$FT_PYTHON" -VV | head -n 1)); skipping build"
        fi
        return
    fi
    local start=$SECONDS tarball builddir srctree
    install_build_deps
    tarball="$(fetch_source)"

    builddir="$CACHE/build"
    rm -rf "$builddir"
    mkdir -p "$builddir"
    log "unpacking $(basename "$tarball")"
    tar -xJf "$tarball" -C "$builddir"
    srctree="$(find "$builddir" -mindepth 1 -maxdepth 1 -type d -name 'Python-3.13*' | head -n 1)"
    [[ -n "$srctree" ]] || die "no Python-3.13* directory in $tarball"

    cd "$srctree"
    run_logged configure ./configure --disable-gil --prefix="$PREFIX" --with-ensurepip=install \
        || die "configure failed"
    run_logged make make -j"$(nproc)" || die "make failed"
    rm -rf "$PREFIX"
    if ! run_logged make-install make install; then
        rm -rf "$PREFIX"  # never leave a half-installed prefix that looks "built"
        die "make install failed"
    fi
    cd "$REPO_ROOT"
    [[ -x "$FT_PYTHON" ]] || die "make install did not produce $FT_PYTHON"

    # Sanity: free-threaded build, GIL off, and the usual C modules were built.
    if ! "$FT_PYTHON" -c '
import sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1, "not a --disable-gil build"
assert not sys._is_gil_enabled(), "GIL is enabled"
import ssl, zlib, bz2, lzma, sqlite3, ctypes, readline, decimal, hashlib  # noqa
'; then
        rm -rf "$PREFIX"
        die "the built interpreter failed its sanity check"
    fi
    rm -rf "$builddir"
    log "built $("$FT_PYTHON" -VV | head -n 1) in $((SECONDS - start)) s"
}

# What the venv's editable install depends on: redo it when this changes.
install_fingerprint() {
    {
        printf 'repo=%s\ngreenlet=%s\n' "$REPO_ROOT" "$GREENLET_VERSION"
        sha256sum "$REPO_ROOT/pyproject.toml" "$REPO_ROOT"/src/goroutines/*.c "$REPO_ROOT"/src/goroutines/*/*.c
    } | sha256sum | cut -d' ' -f1
}

build_venv() {
    # A venv whose python no longer runs (e.g. interpreter rebuilt) is recreated.
    if [[ -d "$VENV" ]] && ! "$VENV_PYTHON" -c 'import sys; sys.exit(not hasattr(sys, "_is_gil_enabled"))' 2>/dev/null; then
        log "recreating broken venv $VENV"
        rm -rf "$VENV"
    fi
    if [[ ! -d "$VENV" ]]; then
        log "creating venv $VENV"
        "$FT_PYTHON" -m venv "$VENV"
    fi
    local want
    want="$(install_fingerprint)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        return
    fi
    rm -f "$STAMP"
    run_logged pip-greenlet install_greenlet "$VENV_PYTHON" \
        || die "pip install greenlet==$GREENLET_VERSION failed"
    run_logged pip-project install_project "$VENV_PYTHON" \
        || die "pip install -e ${REPO_ROOT}[test] failed"
    printf '%s\n' "$want" >"$STAMP"
    log "venv ready: $VENV"
}

# greenlet has no cp313t wheels: this builds it from the sdist (~30 s; pip
# caches the wheel it builds, so later venvs take a second).
install_greenlet() {
    "$1" -m pip install "greenlet==$GREENLET_VERSION"
}

# This repository, editable with its [test] extra.  The pin is repeated so that
# resolving the project's dependencies (greenlet>=3.1) keeps it.
# --prefer-binary: some dependencies publish only an sdist for cp313t whose
# build needs a network toolchain (e.g. recent hypothesis releases compile
# Rust and fetch crates), so take the newest release with a usable wheel.
install_project() {
    "$1" -m pip install --prefer-binary -e "${REPO_ROOT}[test]" "greenlet==$GREENLET_VERSION"
}

# A fresh venv in $1 on the cached interpreter, installed as the cache's venv
# is; pip's output goes to stderr rather than to a log.
fresh_venv() {
    local dir="$1"
    rm -rf "$dir"
    "$FT_PYTHON" -m venv "$dir" || die "python3.13t -m venv $dir failed"
    "$dir/bin/python" -m pip install -q --upgrade pip >&2 || die "upgrading pip in $dir failed"
    install_greenlet "$dir/bin/python" >&2 || die "pip install greenlet==$GREENLET_VERSION failed"
    install_project "$dir/bin/python" >&2 || die "pip install -e ${REPO_ROOT}[test] failed"
}

# Build whatever is missing, serialised by a lock so that concurrent callers
# (two shells, a CI run) do not build over each other.
ensure_built() {
    ensure_interpreter build_venv
}

# Build the interpreter if it is missing, then run "$@" (if any), under the lock.
ensure_interpreter() {
    mkdir -p "$CACHE" "$LOGS"
    exec 9>"$CACHE/.lock"
    flock 9
    build_interpreter
    "$@"
    flock -u 9
    exec 9>&-
}

usage() {
    sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    build)
        VERBOSE_SKIP=1 ensure_built
        "$VENV_PYTHON" -c 'import sys, greenlet; print(sys.version.split()[0], "greenlet", greenlet.__version__, "GIL enabled:", sys._is_gil_enabled())'
        ;;
    test)
        ensure_built
        cd "$REPO_ROOT"
        export GOMAXPROCS="${GOMAXPROCS:-2}" PYTHON_GIL=0
        "$VENV_PYTHON" - <<'EOF'
import os, subprocess, sys, sysconfig
import greenlet
env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
natural = subprocess.run(
    [sys.executable, "-c", "import sys, greenlet; print(sys._is_gil_enabled())"],
    env=env, capture_output=True, text=True).stdout.strip()
print(f"free-threaded python {sys.version.split()[0]} ({sys.executable}), "
      f"Py_GIL_DISABLED={sysconfig.get_config_var('Py_GIL_DISABLED')}, greenlet {greenlet.__version__}")
print(f"GIL enabled: {sys._is_gil_enabled()} (PYTHON_GIL=0); "
      f"without PYTHON_GIL after importing greenlet: {natural}; GOMAXPROCS={os.environ['GOMAXPROCS']}")
EOF
        exec "$VENV_PYTHON" -m pytest "$@"
        ;;
    python)
        ensure_built
        exec "$VENV_PYTHON" "$@"
        ;;
    interpreter)
        VERBOSE_SKIP=1 ensure_interpreter
        printf '%s\n' "$FT_PYTHON"
        ;;
    venv)
        [[ $# -eq 1 && -n "$1" ]] || die "usage: $0 venv DIR"
        dir="$(realpath -m -- "$1")"  # a build changes directory on the way
        ensure_interpreter
        fresh_venv "$dir"
        ;;
    clean)
        log "removing $CACHE"
        rm -rf "$CACHE"
        ;;
    -h|--help|help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
esac
