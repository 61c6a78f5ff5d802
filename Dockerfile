# One image per service: docker build --build-arg SERVICE=api .
# Node 24 runs the TypeScript sources directly (type stripping): no build step.
FROM node:24-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile --prod

FROM node:24-slim
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=deps --chown=node:node /app /app
USER node
CMD ["sh", "-c", "exec node services/${SERVICE}/src/main.ts"]
