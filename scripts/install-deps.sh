#!/usr/bin/env bash
# Installs what wireprobe needs on a Debian machine, idempotently.
#   scripts/install-deps.sh run    -> runtime + build packages
#   scripts/install-deps.sh test   -> also the test and benchmark tools
# Only installs packages that are missing; never upgrades what is there.
set -euo pipefail
mode="${1:-run}"

need=(libpcap-dev python3 make g++ iproute2 conntrack)
if [ "$mode" = test ]; then
  need+=(tcpdump nftables prometheus fping hping3 procps dnsmasq util-linux systemd)
fi

missing=()
for p in "${need[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # prometheus and dnsmasq pull in their services; the tests only run the binaries, never the units.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # only the services of packages installed just now: a dnsmasq or prometheus the host already ran is left alone
  if command -v systemctl >/dev/null 2>&1; then
    for svc in prometheus dnsmasq; do
      if printf '%s\n' "${missing[@]}" | grep -qx "$svc"; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    done
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "install-deps: Node.js 20 is required (https://nodejs.org or Debian's nodesource packages)" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "install-deps: Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.wireprobe-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] \
   || [ ! -f node_modules/pcap/build/Release/pcap_binding.node ] \
   || [ ! -f node_modules/raw-socket/build/Release/raw.node ]; then
  echo "install-deps: npm ci"
  npm ci --no-fund --no-audit --loglevel=error
  echo "$want" > "$stamp"
fi
