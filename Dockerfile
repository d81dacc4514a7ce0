# syntax=docker/dockerfile:1

# Node 24 is the active LTS (supported until April 2028); Sesame also runs on 20.10 and later.
ARG NODE_VERSION=24

# Build stage: compiles src/ to dist/ and better-sqlite3 from source, then drops the development
# dependencies, so the runtime stage copies a finished node_modules and needs no compiler.
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# better-sqlite3 is built against this Node's own headers (/usr/local/include/node): no prebuilt
# binary from GitHub and no headers from nodejs.org, so the npm registry is the only download.
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# Install scripts stay off (the playground's embedded PostgreSQL needs none here); better-sqlite3
# is the one production dependency with native code, and is built on its own.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Production dependencies only from here on: no compiler, tsx, esbuild, test tools or the
# playground's embedded PostgreSQL.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Runtime stage: the compiled code and the pruned node_modules, run as the unprivileged node user.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini is PID 1 and passes docker stop's SIGTERM on to Sesame, which finishes the work in flight
# and exits 0. Node itself as PID 1 would ignore the signal until Sesame's handler is in place,
# so a container stopped while starting would wait out the timeout and be killed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# The config is mounted at /etc/sesame/sesame.yml; the state file lives on the volume, whatever
# the config's state.sqlite says ($SESAME_STATE takes precedence).
ENV NODE_ENV=production \
    PORT=3000 \
    SESAME_CONFIG=/etc/sesame/sesame.yml \
    SESAME_STATE=/var/lib/sesame/sesame.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The state folder is the node user's alone (0700), as is the file Sesame keeps in it (0600). A
# named volume starts as a copy of it; a host folder mounted there must be writable by uid 1000.
RUN mkdir -p /etc/sesame \
 && mkdir -p -m 700 /var/lib/sesame \
 && chown node:node /var/lib/sesame
VOLUME ["/var/lib/sesame"]
# The node user, by number, so that orchestrators can tell it is not root (runAsNonRoot).
USER 1000:1000
EXPOSE 3000
# The slim image has no curl; Node's fetch probes the process instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --start-interval=2s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.js"]
CMD ["start"]
