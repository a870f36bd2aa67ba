# wireprobe container image.
#
# Build:  docker build -t wireprobe .
# Run (host networking; raw sockets and capture, no other capability):
#   docker run -d --name wireprobe --network host \
#     --cap-drop=ALL --cap-add=NET_RAW --cap-add=NET_ADMIN \
#     -v "$PWD/wireprobe.yaml:/etc/wireprobe/wireprobe.yaml:ro" \
#     -v wireprobe-state:/var/lib/wireprobe \
#     wireprobe
#
# The process runs as the unprivileged user wireprobe (uid 10001). It gets CAP_NET_RAW and
# CAP_NET_ADMIN from file capabilities on the node binary, so the container must keep both in
# its bounding set (the --cap-add above) and must NOT run with --security-opt no-new-privileges
# (which makes the kernel ignore file capabilities). Without them wireprobe exits with 77 and
# says which capability is missing. A node binary with file capabilities runs in secure mode and
# ignores NODE_OPTIONS (process.env is read as usual).
# The HEALTHCHECK asks /-/healthy on 127.0.0.1:9771: keep global.prometheus_port at 9771 and
# prometheus_address at 0.0.0.0 or 127.0.0.1, or override the HEALTHCHECK.
# Not built by the tests (no Docker daemon on the development machines); see README.md.

# ---- build: native addons (raw-socket, pcap, ours in native/) with node-gyp, TypeScript, then prune dev deps
FROM node:20-bookworm-slim AS build
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# the flow collector's batched UDP receiver, built by npm ci (the package's install script)
COPY native ./native
RUN npm ci --no-fund --no-audit
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p . && npm prune --omit=dev --no-fund --no-audit

# ---- runtime: same base, so the addons built above match its Node.js ABI and glibc
FROM node:20-bookworm-slim
# libpcap0.8: the capture; iproute2: route lookups and the routes check (`ip`);
# conntrack: the conntrack check; libcap2-bin: setcap (iproute2 depends on it anyway).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 iproute2 conntrack libcap2-bin \
 && setcap cap_net_raw,cap_net_admin+ep "$(readlink -f /usr/local/bin/node)" \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wireprobe \
 && useradd --system --uid 10001 --gid wireprobe --no-create-home --home-dir /var/lib/wireprobe \
      --shell /usr/sbin/nologin wireprobe \
 && install -d -o wireprobe -g wireprobe -m 0750 /var/lib/wireprobe
ENV NODE_ENV=production
WORKDIR /opt/wireprobe
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/native/udp-batch/build/Release/udp_batch.node ./native/udp-batch/build/Release/udp_batch.node
COPY --from=build /src/native/malloc-trim/build/Release/malloc_trim.node ./native/malloc-trim/build/Release/malloc_trim.node
COPY package.json README.md ./
COPY schema ./schema
COPY examples ./examples
COPY dynamic-inventories ./dynamic-inventories
COPY examples/wireprobe.yaml /etc/wireprobe/wireprobe.yaml
USER 10001:10001
EXPOSE 9771
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9771/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=1: 32-37 MB less RSS at 10 000 targets (bench/README.md, "Memory"); on the
# command line because NODE_OPTIONS is ignored here (file capabilities). glibc malloc: 2 arenas,
# blocks from 128 KiB mapped on their own (test/lab/packaged-runtime.ts, "Memory floor").
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
ENTRYPOINT ["node", "--max-semi-space-size=1", "dist/src/main.js"]
CMD ["run", "--config", "/etc/wireprobe/wireprobe.yaml"]
