#!/usr/bin/env bash
# Installs what the real-VS-Code tests need on a machine without internet access beyond the npm
# registry and Debian: code-server 4.100.3 (VS Code 1.100.3, newest that runs on Node 20) into the
# git-ignored .vscode-test/tools folder, and Debian chromium (driven by playwright-core).
# Idempotent: a second run only checks. Usage: test/vscode/setup.sh   (as root for apt, or with apt done)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$ROOT/.vscode-test/tools"
CS_VERSION=4.100.3

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
dpkg -s build-essential >/dev/null 2>&1 || need_apt+=(build-essential pkg-config python3)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update
  $SUDO apt-get -o DPkg::Lock::Timeout=1200 install -y "${need_apt[@]}"
fi

if [ -x "$TOOLS/node_modules/.bin/code-server" ] && "$TOOLS/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$CS_VERSION"; then
  echo "setup: code-server $CS_VERSION already installed in $TOOLS"
  exit 0
fi

mkdir -p "$TOOLS"
cd "$TOOLS"
[ -f package.json ] || echo '{"name":"flawscope-vscode-test-tools","private":true}' > package.json
# @vscode/ripgrep's postinstall downloads rg from GitHub; pre-fill its cache with Debian's rg.
export TMPDIR="$TOOLS/tmp"
mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11" "$TMPDIR/rgpack"
cp "$(command -v rg)" "$TMPDIR/rgpack/rg"
tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$TMPDIR/rgpack" rg
# kerberos needs libkrb5-dev; node-pty's postinstall needs npm_config_yes; root needs unsafe_perm.
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund "code-server@$CS_VERSION"
"$TOOLS/node_modules/.bin/code-server" --version
