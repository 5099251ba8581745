#!/usr/bin/env bash
# The conformance suite from a partner's CI (README "Conformance from your CI"): registers a sandpit client through a
# running toolkit's API, starts your service with it, runs the plan in the toolkit's browser, and writes the JUnit file and
# the signed report. Exits 0 only if every test passed; the JUnit file names each test that did not.
#
#   TOOLKIT_URL    the toolkit, e.g. http://localhost:3000 (the image, started by the job)
#   TOOLKIT_TOKEN  an API token of your organisation (portal > API tokens, or `toolkit organisations create --token-name`)
#   SERVICE_URL    your service's start page, with its NHS login button, e.g. http://localhost:8080
#   START_SERVICE  the shell command that starts your service; it is given TOOLKIT_ISSUER, CLIENT_ID and PRIVATE_KEY (a file)
# Optional:
#   REDIRECT_URI   ($SERVICE_URL/callback)   SCOPES ("openid profile email phone")   VTR ("P9.Cp.Cd P5.Cp.Cd")
#   ONLY           a comma list of tests (all by default)   OUT (./conformance): junit.xml, report.jws, the client's keys
#   TOOLKIT        how to run the toolkit's CLI ("npx toolkit" in a checkout of the toolkit)
set -euo pipefail
: "${TOOLKIT_URL:?set TOOLKIT_URL}" "${TOOLKIT_TOKEN:?set TOOLKIT_TOKEN}" "${SERVICE_URL:?set SERVICE_URL}"
: "${START_SERVICE:?set START_SERVICE}"
TOOLKIT=${TOOLKIT:-npx toolkit}
OUT=${OUT:-conformance}
REDIRECT_URI=${REDIRECT_URI:-$SERVICE_URL/callback}
export TOOLKIT_URL TOOLKIT_TOKEN
mkdir -p "$OUT"

$TOOLKIT keys generate --out "$OUT/keys" > /dev/null
args=(clients create --env sandpit --name "CI run $(date -u +%Y-%m-%dT%H:%M:%SZ)" --redirect-uri "$REDIRECT_URI"
  --public-key "$OUT/keys/public.pem")
for s in ${SCOPES:-openid profile email phone}; do args+=(--scope "$s"); done
for v in ${VTR:-P9.Cp.Cd P5.Cp.Cd}; do args+=(--vtr "$v"); done
CLIENT_ID=$($TOOLKIT "${args[@]}")
echo "Registered sandpit client $CLIENT_ID"

TOOLKIT_ISSUER="$TOOLKIT_URL/sandpit" CLIENT_ID="$CLIENT_ID" PRIVATE_KEY="$OUT/keys/private.pem" bash -c "$START_SERVICE" &
service=$!
trap 'kill "$service" 2> /dev/null || true' EXIT
for _ in $(seq 60); do
  curl -fsS -o /dev/null "$SERVICE_URL" 2> /dev/null && break
  kill -0 "$service" 2> /dev/null || { echo "The service stopped before it answered at $SERVICE_URL" >&2; exit 2; }
  sleep 1
done

$TOOLKIT conformance run --client "$CLIENT_ID" --start-url "$SERVICE_URL" ${ONLY:+--only "$ONLY"} \
  --junit "$OUT/junit.xml" --report "$OUT/report.jws"
