# syntax=docker/dockerfile:1

# Build stage: compile src/ to dist/ with the full dependency set (TypeScript is a devDependency).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts build native modules and fetch test servers; the compiler needs neither.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled code, run as the unprivileged node user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    SESAME_CONFIG=/etc/sesame/sesame.yml
WORKDIR /app
COPY package.json package-lock.json ./
# Development dependencies stay out: the playground's embedded PostgreSQL, the compiler, the test tools.
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# Mount the config at /etc/sesame/sesame.yml and keep the state store on the volume, e.g.
# `state: { sqlite: /var/lib/sesame/sesame.db }`.
# The state directory is the node user's alone (0700), as is the file Sesame keeps in it (0600).
RUN mkdir -p /etc/sesame && mkdir -p -m 700 /var/lib/sesame && chown node:node /var/lib/sesame
VOLUME ["/var/lib/sesame"]
USER node
EXPOSE 3000
# The slim image has no curl; Node 20's fetch probes the process instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
