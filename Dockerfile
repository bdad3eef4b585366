# syntax=docker/dockerfile:1
#
# topicdesk image: built with every dependency, run with production dependencies only,
# as the unprivileged `node` user. See docs/deploy.md.
#
#   docker build -t topicdesk .
#   docker run -p 3000:3000 -v topicdesk-data:/data --env-file .env topicdesk   # one instance, SQLite in /data
#   docker compose up -d                                                         # two instances, PostgreSQL, Redis, nginx
#
# Migrations run at start-up (and on their own with `node dist/src/cli/migrate.js`).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile the server (tsc) and bundle the visitor page (esbuild) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 is a native module: prebuild-install fetches a prebuilt binary, else node-gyp compiles it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Scripts are skipped here because `prepare` would build sources that are not copied yet;
# then only the dependencies that need their install step get it.
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3 esbuild
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && npm cache clean --force

# --- runtime ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# Production dependencies with better-sqlite3's binary as built above (same base image, so the same glibc).
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
COPY --from=build /app/dist/knexfile.js ./dist/knexfile.js
COPY --from=build /app/public ./public
# The app's files stay root-owned and read-only to it; only /data (SQLite, local media) is writable.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# main.js handles SIGTERM itself (graceful shutdown within SHUTDOWN_TIMEOUT_MS).
CMD ["node", "dist/src/main.js"]
