# im-message: one image for every role. The sources run through tsx, so there is no build step.
#   docker run IMAGE <role>   roles: ingest-api worker-persist worker-fanout worker-delivery worker-cleaner migrate

# Workspace manifests only, so the dependency layer below is rebuilt only when a package.json changes.
FROM node:20-bookworm-slim AS manifests
WORKDIR /src
COPY apps ./apps
COPY packages ./packages
RUN find apps packages -type f ! -regex '\(apps\|packages\)/[^/]*/package\.json' -delete \
 && find apps packages -mindepth 1 -type d -empty -delete

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=manifests /src/ ./
# Dev dependencies included: tsx runs the TypeScript sources.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY . .

USER node
EXPOSE 6000 6001 9101 9102 9103 9104
ENTRYPOINT ["bash", "/app/infra/docker/entrypoint.sh"]
CMD ["ingest-api"]
