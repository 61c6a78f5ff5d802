# syntax=docker/dockerfile:1
# One image per service, all from this file:
#   docker build --build-arg SERVICE=api -t payledger-api .
# (docker-compose.yml does this for every folder under services/.)
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step. The
# workspace is installed in place: @payledger/* resolve through pnpm's symlinks to packages/*/src,
# which Node strips. `pnpm deploy` is deliberately not used: it copies workspace packages into
# node_modules, and Node refuses to strip types of files under node_modules.

FROM node:24-slim AS base
# The pnpm of package.json's "packageManager" (test/compose.int.test.ts checks they agree).
RUN npm install -g pnpm@10.34.8
WORKDIR /app

# Only the manifests and the lockfile, so that the install layer below is reused while only
# sources change.
FROM base AS manifests
COPY . .
RUN find . -type f ! -name package.json ! -name pnpm-lock.yaml ! -name pnpm-workspace.yaml ! -name .npmrc -delete \
  && find . -mindepth 1 -type d -empty -delete

# Production dependencies of this one service and the workspace packages it depends on
# (--filter-prod ignores devDependencies, so test tooling stays out of the image).
FROM base AS deps
ARG SERVICE
COPY --from=manifests /app ./
RUN if [ -z "$SERVICE" ] || [ ! -f "services/$SERVICE/package.json" ]; then \
      echo "build with --build-arg SERVICE=<a folder under services/>" >&2; exit 1; \
    fi \
  && pnpm install --frozen-lockfile --prod --filter-prod "{./services/${SERVICE}}..."

FROM node:24-slim
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
# Code and dependencies stay owned by root: the service can read them, not change them.
COPY --from=deps /app ./
COPY packages ./packages
COPY schemas ./schemas
COPY services ./services
# The only writable place: .data, the embedded mode's data folder (unused with DATABASE_URL).
RUN if [ ! -f "services/$SERVICE/src/main.ts" ]; then \
      echo "services/$SERVICE has no src/main.ts to run" >&2; exit 1; \
    fi \
  && mkdir -p .data && chown node:node .data
USER node
# exec: node is PID 1 and receives SIGTERM from `docker stop` directly.
CMD ["sh", "-c", "exec node services/${SERVICE}/src/main.ts"]
