# syntax=docker/dockerfile:1
# hashrec: build and train in one stage, run from a slim stage with production dependencies only.
#
# Builds with the npm registry as the only network dependency (no apt, no nodejs.org):
#   docker build -t hashrec .
#   buildah bud --format docker -t hashrec .     # podman build --format docker -t hashrec .
# buildah and podman write OCI images by default, and the OCI image format has no HEALTHCHECK:
# without --format docker the health check below is dropped without a warning.
#
# Node 24 is the long-term-support line this image runs; CI runs the suite on Node 20, and
# docs/deploy.md says which checks ran on which version.
ARG NODE_IMAGE=node:24-bookworm

# The full image (buildpack-deps) ships python3, make and g++, which node-gyp needs for
# hnswlib-node's native addon: no apt-get, so no Debian mirror is needed.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# node-gyp's default is to download Node's headers from nodejs.org; the image already has them
# under /usr/local/include/node, for exactly the Node that runs the addon.
ENV npm_config_nodedir=/usr/local \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The default model is trained at build time so a container serves as soon as it starts.
COPY data ./data
RUN node dist/trainer/cli.js --input data/ml-latest-small/ratings.csv --items data/ml-latest-small/movies.csv --out models/default --fast
RUN npm prune --omit=dev

# Same Debian release and Node as the build stage: the addon compiled there links against its
# glibc and libstdc++ and Node's ABI.
FROM ${NODE_IMAGE}-slim AS runtime
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
# The image's unprivileged user (uid 1000); Kubernetes' runAsNonRoot checks the numeric id.
USER 1000:1000
EXPOSE 8080
# /readyz: a model is loaded and the process is not draining. Liveness is /healthz (see
# deploy/kubernetes); this check is for docker and compose, which have only one.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# PID 1 is node itself, started directly (not through npm or a shell, which do not forward
# signals): it handles SIGTERM and SIGINT (close-with-grace, and the cluster primary forwards them
# to its workers), and the only children it ever has are its cluster workers, which it reaps. An
# init such as tini would add nothing but a binary from outside the npm registry; `docker run
# --init` adds one if you want it. test/deploy/pid1.test.ts runs the service as PID 1 of a fresh
# PID namespace and checks that SIGTERM drains it. The flag is src/util/node-flags.ts's young
# generation (cluster workers add it themselves; a single process needs it here).
CMD ["node", "--min-semi-space-size=16", "dist/index.js"]
