#!/usr/bin/env bash
# Install what handshake-viz and its tests need, idempotently: Debian packages (capture tools
# and the tshark oracle), then a virtual environment with the package and its test extras.
# Called by the Makefile's targets; safe to run again (it skips what is already there).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tshark  >/dev/null 2>&1 || need+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v tmux    >/dev/null 2>&1 || need+=(tmux)
command -v curl    >/dev/null 2>&1 || need+=(curl)
command -v sudo    >/dev/null 2>&1 || need+=(sudo)      # the README's examples say sudo
command -v jq      >/dev/null 2>&1 || need+=(jq)        # and pipe the JSONL into jq
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v capinfos >/dev/null 2>&1 || need+=(wireshark-common)
command -v bpftrace >/dev/null 2>&1 || need+=(bpftrace)   # the kernel's view (socket calls, states)
command -v nft     >/dev/null 2>&1 || need+=(nftables)   # real faults in lessons and the lab
command -v ip      >/dev/null 2>&1 || need+=(iproute2)   # network namespaces and veth
[ -x /usr/bin/chromium ] || need+=(chromium)  # the browser tests of `serve` and the handouts
# A CJK font: a Chinese handout embeds the glyphs it uses from it (classroom/handout_fonts.py).
fc-list ':lang=zh-cn' family 2>/dev/null | grep -q . || need+=(fonts-noto-cjk)
ldconfig -p 2>/dev/null | grep -q 'libpcap\.so' || need+=(libpcap0.8)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: installing Debian packages: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing handshake-viz and its test tools into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
  touch "$stamp"
fi
