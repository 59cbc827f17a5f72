#!/usr/bin/env bash
# npm run test:vscode — the extension in a real VS Code (code-server 4.100.3 + Debian chromium).
# Installs the tools on first use (test/vscode/setup.sh), then runs test/vscode/run.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .vscode-test/tools/node_modules/.bin/code-server ] || ! command -v chromium >/dev/null; then
  bash test/vscode/setup.sh
fi
exec node test/vscode/run.mjs "$@"
