# syntax=docker/dockerfile:1
# hashrec: build and train in one stage, run from a slim stage with production dependencies only.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# hnswlib-node compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The default model is trained at build time so a container serves as soon as it starts.
COPY data ./data
RUN node dist/trainer/cli.js --input data/ml-latest-small/ratings.csv --items data/ml-latest-small/movies.csv --out models/default --fast
RUN npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MODEL_DIR=models/default \
    MODELS_ROOT=models
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/models ./models
COPY --chown=node:node openapi.yaml ./
COPY --chown=node:node demo ./demo
USER node
EXPOSE 8080
# /readyz: a model is loaded and every configured dependency answers. Node 20 has fetch built in.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm start) so SIGTERM reaches close-with-grace, whose drain delay (8 s) is
# below Docker's default 10 s stop grace period. The flag is src/util/node-flags.ts's young
# generation (cluster workers add it themselves; a single process needs it here).
CMD ["node", "--min-semi-space-size=16", "dist/index.js"]
