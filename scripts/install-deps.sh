#!/usr/bin/env bash
# Installs what wireprobe needs on a Debian machine, idempotently.
#   scripts/install-deps.sh run    -> runtime + build packages
#   scripts/install-deps.sh test   -> also the test and benchmark tools
# Only installs packages that are missing; never upgrades what is there.
set -euo pipefail
mode="${1:-run}"

# The single list of what wireprobe needs besides Node.js 20 (and the npm that comes with it).
# One entry per Debian package: "package command...", the commands wireprobe, its build, its
# tests or its benchmarks run from that package ("-" for a library). Listed even when a minimal
# Debian 12 already has them (coreutils, util-linux, ...), so the list is complete.
# test/unit/install-deps.test.ts fails when a command the sources spawn, or a package a
# prerequisite check (requireTools) names, is missing here.
run_packages=(
  "libpcap-dev -"                  # library and headers of the pcap addon (built by npm ci)
  "python3 python3"                # node-gyp, for the native addons
  "make make"
  "g++ g++"
  "iproute2 ip ss"                 # route lookups (src/net/route.ts), the routes check; ss in tests
  "conntrack conntrack"            # the conntrack check
  "coreutils cat sleep touch timeout" # cat: conntrack check in a netns; the others in tests
)
test_packages=(
  "nftables nft"                   # lab firewall rules
  "procps sysctl"                  # lab namespace sysctls
  "tcpdump tcpdump"                # captures and BPF filter checks
  "iputils-ping ping"              # lab connectivity
  "prometheus prometheus promtool" # dashboards and alerts against a real Prometheus
  "dnsmasq dnsmasq"                # DHCP server of the dhcp check tests
  "util-linux setpriv"             # running without capabilities
  "systemd systemd-analyze"        # checking the packaged unit
  "dash sh"
  "tar tar"
  "libc-bin getconf getent"
  "fping fping"                    # benchmark peers
  "hping3 hping3"
  "softflowd softflowd"            # flow exporter of the flow collector tests
  "nfdump nfcapd nfdump"           # flow collector peer (benchmark) and reference decoder
  "postgresql -"                   # PostgreSQL flow sink tests (binaries under /usr/lib/postgresql)
  "nats-server nats-server"        # fleet tests
  "curl curl"                      # HTTP requests inside the fleet test namespaces
  "chromium chromium"              # status page tests (headless)
  "mtr-tiny mtr"                   # traceroute/mtr reference
  "netsniff-ng trafgen"            # kernel send-rate limit (benchmark)
  "gcc gcc"                        # bench/raw-sender.c, the kernel send-rate limit (benchmark)
  "linux-perf perf"                # where wireprobe's time goes (physical-limit benchmark)
  "curl curl"                      # soak benchmark scrapes
)

entries=("${run_packages[@]}")
if [ "$mode" = test ]; then
  entries+=("${test_packages[@]}")
fi
need=()
commands=()
for e in "${entries[@]}"; do
  read -r pkg cmds <<<"$e"
  need+=("$pkg")
  for c in $cmds; do [ "$c" = - ] || commands+=("$c"); done
done

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
    for svc in prometheus dnsmasq nats-server postgresql; do
      if printf '%s\n' "${missing[@]}" | grep -qx "$svc"; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    done
  fi
fi

# a package that no longer provides a listed command (or a wrong entry above) fails here, not in a test
lost=()
for c in "${commands[@]}"; do
  PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" command -v "$c" >/dev/null 2>&1 || lost+=("$c")
done
if [ "${#lost[@]}" -gt 0 ]; then
  echo "install-deps: commands still missing after installing the packages: ${lost[*]}" >&2
  exit 1
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
   || [ ! -f node_modules/raw-socket/build/Release/raw.node ] \
   || [ ! -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  echo "install-deps: npm ci"
  npm ci --no-fund --no-audit --loglevel=error
  echo "$want" > "$stamp"
fi
