# The toolkit as an image: Debian's Chromium for the conformance suite, Node 24 from the `node` dev dependency (Debian's
# own Node only runs npm), a non-root user, data on a volume, /readyz as the health check. See README "Container image".

# Installing needs Debian's npm (and the hundreds of packages it depends on); running does not, so it stays in this stage.
FROM debian:bookworm-slim AS install
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates nodejs npm \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# extra-ca.pem (optional, not in git): the CA of a proxy that inspects TLS, for npm behind it (README "Container image").
COPY package.json package-lock.json extra-ca.pe[m] ./
# The whole lock file: `node` (Node 24) is a dev dependency, and `npm start` runs it from node_modules/.bin.
RUN NODE_EXTRA_CA_CERTS="$([ -f extra-ca.pem ] && echo /app/extra-ca.pem)" npm ci --no-audit --no-fund

FROM debian:bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates chromium fonts-liberation tini \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --create-home --uid 10001 toolkit \
  && mkdir -p /app/data && chown -R toolkit:toolkit /app
WORKDIR /app
USER toolkit
# `npm start` without npm: the same command line as package.json's start script.
ENV MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2
COPY --chown=toolkit:toolkit --from=install /app/node_modules ./node_modules
COPY --chown=toolkit:toolkit package.json tsconfig.json ./
COPY --chown=toolkit:toolkit bin ./bin
COPY --chown=toolkit:toolkit src ./src
COPY --chown=toolkit:toolkit examples ./examples
ENV HOST=0.0.0.0 PORT=3000 DATABASE_URL=sqlite:/app/data/toolkit.db CHROMIUM_PATH=/usr/bin/chromium
VOLUME ["/app/data"]
EXPOSE 3000
# On the port the toolkit listens on (PORT may be changed, e.g. with --network host).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/app/node_modules/.bin/node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/app/node_modules/.bin/node", "--max-semi-space-size=16", "--heap-growing-percent=100", "src/main.ts"]
