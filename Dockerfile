# wireprobe container image. Build: docker build -t wireprobe .
# Run (host networking, raw sockets and capture, nothing else):
#   docker run --rm --network host --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#     -v "$PWD/wireprobe.yaml:/etc/wireprobe/wireprobe.yaml:ro" wireprobe
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p . && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 iproute2 libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && setcap cap_net_raw,cap_net_admin+ep "$(readlink -f /usr/local/bin/node)" \
 && useradd --system --no-create-home --shell /usr/sbin/nologin wireprobe
WORKDIR /opt/wireprobe
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
COPY schema ./schema
COPY examples ./examples
COPY examples/wireprobe.yaml /etc/wireprobe/wireprobe.yaml
USER wireprobe
EXPOSE 9771
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:9771/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["run", "--config", "/etc/wireprobe/wireprobe.yaml"]
