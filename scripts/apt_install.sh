#!/usr/bin/env bash
# Install Debian packages the project needs, or say clearly how to when we cannot.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=sudo
  else
    echo "Solo OMS needs these Debian packages: $*" >&2
    echo "Install them with: sudo apt-get install -y $*" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "Installing Debian packages: $*"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
