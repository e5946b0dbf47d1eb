# wxa-auth on Node: the image WeChat Cloud Hosting (deploy from the repository,
# with container.config.json), Sealos or any container host runs. Two stages:
# the library built from this repository, then server/ with production
# dependencies only. On a mainland builder use Tencent's npm mirror:
#   docker build --build-arg NPM_REGISTRY=https://mirrors.cloud.tencent.com/npm/ .
# Node 24 is the maintained LTS (Node 20 reached end-of-life in April 2026).

FROM node:24-slim AS build
ARG NPM_REGISTRY=https://registry.npmjs.org/
WORKDIR /app
COPY . .
RUN npm ci --ignore-scripts --no-audit --no-fund --registry=$NPM_REGISTRY && npm run build:lib

FROM node:24-slim
ARG NPM_REGISTRY=https://registry.npmjs.org/
# Cloud Hosting sends requests to the container port, 80 unless the service says otherwise.
ENV NODE_ENV=production PORT=80
WORKDIR /app/server
COPY --from=build /app/package.json /app/LICENSE /app/
COPY --from=build /app/dist /app/dist
COPY server/package.json server/package-lock.json server/.npmrc server/index.mjs ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --registry=$NPM_REGISTRY
# The image's own unprivileged user; port 80 needs no root where the runtime allows
# unprivileged low ports (Docker since 20.10; else set PORT=8080 and the container port).
USER node
EXPOSE 80
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 80) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "index.mjs"]
