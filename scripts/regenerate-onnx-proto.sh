#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift, the Swift bindings for the ONNX
# protobuf schema (plain, non-ML onnx.proto3), with apple/swift-protobuf's
# protoc-gen-swift at a pinned version.
#
# Usage: scripts/regenerate-onnx-proto.sh
#
# Inputs (environment, all optional):
#   ONNX_PYTHON            python interpreter whose `onnx` package is used to
#                          re-derive scripts/onnx/onnx.proto3 with onnx/gen_proto.py
#                          (must be onnx == ONNX_VERSION below). Default: python3 if it
#                          has that onnx; otherwise the checked-in scripts/onnx/onnx.proto3
#                          is used as is.
#   PROTOC                 protoc binary (default: protoc on PATH).
#   PROTOC_GEN_SWIFT       an existing protoc-gen-swift binary; must report
#                          SWIFT_PROTOBUF_VERSION. Default: build it (see below).
#   MODELPRESS_TOOLS_DIR   where the swift-protobuf checkout and its build live
#                          (default: the directory containing this repo, i.e. outside it).
#   SWIFT_PROTOBUF_GIT     git URL/path to clone swift-protobuf from (default: the local
#                          mirror /opt/swift-packages/apple/swift-protobuf.git if present,
#                          else https://github.com/apple/swift-protobuf.git).
#   SWIFT_BUILD_LOCK       lock file serialising `swift build` runs (default /tmp/swift-build.lock).
#
# Running it twice gives byte-identical output.
set -euo pipefail

ONNX_VERSION="1.23.2"
SWIFT_PROTOBUF_VERSION="1.39.0"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROTO_DIR="$REPO_ROOT/scripts/onnx"
PROTO3="$PROTO_DIR/onnx.proto3"
OUT_DIR="$REPO_ROOT/Sources/ONNXProto"
OUT="$OUT_DIR/onnx.pb.swift"

TOOLS_DIR="${MODELPRESS_TOOLS_DIR:-$(dirname "$REPO_ROOT")}"
SP_SRC="$TOOLS_DIR/swift-protobuf-src"
SP_SCRATCH="$TOOLS_DIR/protoc-gen-swift-build"
LOCK="${SWIFT_BUILD_LOCK:-/tmp/swift-build.lock}"
PROTOC="${PROTOC:-protoc}"

log() { printf '[regenerate-onnx-proto] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

command -v "$PROTOC" >/dev/null 2>&1 || die "protoc not found (Debian: apt-get install protobuf-compiler)"

# --- 1. onnx.proto3 -------------------------------------------------------------
python_onnx_version() { # $1 = python; prints onnx version or nothing
  "$1" -c 'import importlib.metadata as m; print(m.version("onnx"))' 2>/dev/null || true
}

py="${ONNX_PYTHON:-}"
if [[ -z "$py" ]] && command -v python3 >/dev/null 2>&1; then
  if [[ "$(python_onnx_version python3)" == "$ONNX_VERSION" ]]; then py=python3; fi
fi

if [[ -n "$py" ]]; then
  have="$(python_onnx_version "$py")"
  [[ "$have" == "$ONNX_VERSION" ]] \
    || die "$py has onnx '${have:-none}', need onnx==$ONNX_VERSION (pip install onnx==$ONNX_VERSION)"
  onnx_pkg_dir="$("$py" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("onnx").origin))')"
  [[ -f "$onnx_pkg_dir/gen_proto.py" && -f "$onnx_pkg_dir/onnx.in.proto" ]] \
    || die "onnx package at $onnx_pkg_dir lacks gen_proto.py / onnx.in.proto"
  log "deriving onnx.proto3 (non-ML) from onnx $have at $onnx_pkg_dir"
  mkdir -p "$tmp/gen"
  "$py" "$onnx_pkg_dir/gen_proto.py" -o "$tmp/gen" onnx >/dev/null
  mkdir -p "$PROTO_DIR"
  if ! cmp -s "$tmp/gen/onnx.proto3" "$PROTO3"; then
    cp "$tmp/gen/onnx.proto3" "$PROTO3"
    log "updated $PROTO3"
  fi
else
  [[ -f "$PROTO3" ]] || die "no python with onnx==$ONNX_VERSION and no checked-in $PROTO3"
  log "using checked-in $PROTO3 (set ONNX_PYTHON to re-derive it from onnx $ONNX_VERSION)"
fi

# --- 2. protoc-gen-swift ----------------------------------------------------------
plugin_ok() { [[ -x "$1" ]] && [[ "$("$1" --version 2>/dev/null)" == "protoc-gen-swift $SWIFT_PROTOBUF_VERSION" ]]; }

plugin="${PROTOC_GEN_SWIFT:-$SP_SCRATCH/release/protoc-gen-swift}"
if [[ -n "${PROTOC_GEN_SWIFT:-}" ]]; then
  plugin_ok "$plugin" || die "$plugin is not protoc-gen-swift $SWIFT_PROTOBUF_VERSION"
elif ! plugin_ok "$plugin"; then
  git_src="${SWIFT_PROTOBUF_GIT:-}"
  if [[ -z "$git_src" ]]; then
    if [[ -d /opt/swift-packages/apple/swift-protobuf.git ]]; then
      git_src=/opt/swift-packages/apple/swift-protobuf.git
    else
      git_src=https://github.com/apple/swift-protobuf.git
    fi
  fi
  if [[ ! -d "$SP_SRC/.git" ]]; then
    log "cloning swift-protobuf from $git_src into $SP_SRC"
    git clone -q "$git_src" "$SP_SRC"
  fi
  if ! git -C "$SP_SRC" rev-parse -q --verify "refs/tags/$SWIFT_PROTOBUF_VERSION" >/dev/null; then
    git -C "$SP_SRC" fetch -q --tags "$git_src"
  fi
  git -C "$SP_SRC" -c advice.detachedHead=false checkout -q "refs/tags/$SWIFT_PROTOBUF_VERSION"
  log "building protoc-gen-swift $SWIFT_PROTOBUF_VERSION (release) into $SP_SCRATCH"
  build=(swift build -c release --product protoc-gen-swift --scratch-path "$SP_SCRATCH")
  if command -v flock >/dev/null 2>&1; then
    (cd "$SP_SRC" && flock "$LOCK" "${build[@]}") >&2
  else
    (cd "$SP_SRC" && "${build[@]}") >&2
  fi
  plugin_ok "$plugin" || die "built $plugin but it does not report protoc-gen-swift $SWIFT_PROTOBUF_VERSION"
fi

# --- 3. generate ------------------------------------------------------------------
log "running $("$PROTOC" --version) with $("$plugin" --version)"
mkdir -p "$tmp/out"
"$PROTOC" \
  --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_out="$tmp/out" \
  -I "$PROTO_DIR" \
  "$PROTO3"
gen="$tmp/out/onnx.pb.swift"
[[ -f "$gen" ]] || die "protoc did not produce onnx.pb.swift"
[[ "$(head -n 1 "$gen")" == "// DO NOT EDIT." ]] || die "unexpected header in generated file"

# Keep swift-protobuf's header block first; add provenance right after it.
marker='//   https://github.com/apple/swift-protobuf/'
grep -qxF "$marker" "$gen" || die "swift-protobuf header marker not found"
awk -v marker="$marker" -v onnx="$ONNX_VERSION" -v sp="$SWIFT_PROTOBUF_VERSION" '
  { print }
  !done && $0 == marker {
    print "//"
    print "// ModelPress: bindings for the ONNX " onnx " schema (plain, non-ML onnx.proto3 from"
    print "// onnx/gen_proto.py; copy in scripts/onnx/onnx.proto3), generated with"
    print "// protoc-gen-swift " sp " and --swift_opt=Visibility=Public."
    print "// Regenerate with: scripts/regenerate-onnx-proto.sh"
    done = 1
  }' "$gen" > "$tmp/onnx.pb.swift"

mkdir -p "$OUT_DIR"
if cmp -s "$tmp/onnx.pb.swift" "$OUT"; then
  log "$OUT is up to date"
else
  cp "$tmp/onnx.pb.swift" "$OUT"
  log "wrote $OUT"
fi
