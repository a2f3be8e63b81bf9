# camgate agent image. Run it with host networking (`--network host`): WS-Discovery is
# multicast, and Docker bridges drop multicast. The live view page listens on web.host:web.port
# (default 127.0.0.1:8088; set CAMGATE_WEB_HOST and CAMGATE_WEB_PASSWORD to open it to the LAN).
# ffmpeg runs under setpriv (util-linux, in the base image) so it dies with the agent.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY agent ./agent
COPY drivers ./drivers
COPY central ./central
COPY scripts ./scripts
COPY test ./test
COPY config ./config
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The live view page's static files are read from the source tree (agent/web/server.ts staticDir()).
COPY agent/web/static ./agent/web/static
COPY bin ./bin
COPY config ./config
COPY package.json ./
ENV CAMGATE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
ENTRYPOINT ["node", "--max-semi-space-size=1", "--max-old-space-size=256", "--single-threaded", "/app/bin/camgate.js"]
CMD ["run"]
