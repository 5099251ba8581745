# The toolkit as an image: Debian's Chromium for the conformance suite, Node 24 from the `node` dev dependency (Debian's
# own Node only runs npm), a non-root user, data on a volume, /readyz as the health check. See README "Container image".
FROM debian:bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates chromium fonts-liberation nodejs npm tini \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --create-home --uid 10001 toolkit \
  && mkdir -p /app/data && chown -R toolkit:toolkit /app
WORKDIR /app
# extra-ca.pem (optional, not in git): the CA of a proxy that inspects TLS, for npm behind it (README "Container image").
COPY --chown=toolkit:toolkit package.json package-lock.json extra-ca.pe[m] ./
USER toolkit
# The whole lock file: `node` (Node 24) is a dev dependency, and `npm start` runs it from node_modules/.bin.
RUN NODE_EXTRA_CA_CERTS="$([ -f extra-ca.pem ] && echo /app/extra-ca.pem)" npm ci --no-audit --no-fund \
  && npm cache clean --force
COPY --chown=toolkit:toolkit bin ./bin
COPY --chown=toolkit:toolkit src ./src
COPY --chown=toolkit:toolkit examples ./examples
COPY --chown=toolkit:toolkit tsconfig.json ./
ENV HOST=0.0.0.0 PORT=3000 DATABASE_URL=sqlite:/app/data/toolkit.db CHROMIUM_PATH=/usr/bin/chromium
VOLUME ["/app/data"]
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/app/node_modules/.bin/node", "-e", "fetch('http://127.0.0.1:3000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["npm", "start"]
