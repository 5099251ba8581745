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
#   TEST_ISSUER_SERVICE_URLS  two more start pages, "URL URL": START_SERVICE is run again for each, given SERVICE_URL and,
#                  as TOOLKIT_ISSUER, one of the client's test issuers (unparseable-jwk, then issuer-mismatch), so that the
#                  plan has jwks-unparseable-key and discovery-issuer-mismatch too (README "Test issuers"); each must
#                  answer its start page even when it cannot use the issuer's discovery document
set -euo pipefail
: "${TOOLKIT_URL:?set TOOLKIT_URL}" "${TOOLKIT_TOKEN:?set TOOLKIT_TOKEN}" "${SERVICE_URL:?set SERVICE_URL}"
: "${START_SERVICE:?set START_SERVICE}"
TOOLKIT=${TOOLKIT:-npx toolkit}
OUT=${OUT:-conformance}
REDIRECT_URI=${REDIRECT_URI:-$SERVICE_URL/callback}
export TOOLKIT_URL TOOLKIT_TOKEN
mkdir -p "$OUT"
read -r -a extra <<< "${TEST_ISSUER_SERVICE_URLS:-}"
if [ "${#extra[@]}" -ne 0 ] && [ "${#extra[@]}" -ne 2 ]; then
  echo "TEST_ISSUER_SERVICE_URLS needs two start pages, one per test issuer" >&2
  exit 2
fi
tests=(jwks-unparseable-key discovery-issuer-mismatch)
kinds=(unparseable-jwk issuer-mismatch)

$TOOLKIT keys generate --out "$OUT/keys" > /dev/null
args=(clients create --env sandpit --name "CI run $(date -u +%Y-%m-%dT%H:%M:%SZ)" --redirect-uri "$REDIRECT_URI"
  --public-key "$OUT/keys/public.pem")
for u in "${extra[@]}"; do args+=(--redirect-uri "$u/callback"); done
for s in ${SCOPES:-openid profile email phone}; do args+=(--scope "$s"); done
for v in ${VTR:-P9.Cp.Cd P5.Cp.Cd}; do args+=(--vtr "$v"); done
CLIENT_ID=$($TOOLKIT "${args[@]}")
echo "Registered sandpit client $CLIENT_ID"

services=()
trap 'kill "${services[@]}" 2> /dev/null || true' EXIT
# Starts the service for an issuer at a start page, and waits until that page answers.
start() {
  TOOLKIT_ISSUER="$1" SERVICE_URL="$2" CLIENT_ID="$CLIENT_ID" PRIVATE_KEY="$OUT/keys/private.pem" bash -c "$START_SERVICE" &
  local pid=$!
  services+=("$pid")
  for _ in $(seq 60); do
    curl -sS -o /dev/null "$2" 2> /dev/null && return 0
    kill -0 "$pid" 2> /dev/null || { echo "The service stopped before it answered at $2" >&2; exit 2; }
    sleep 1
  done
}
start "$TOOLKIT_URL/sandpit" "$SERVICE_URL"
own=()
for i in "${!extra[@]}"; do
  start "$TOOLKIT_URL/sandpit/test-issuers/$CLIENT_ID/${kinds[$i]}" "${extra[$i]}"
  own+=(--start-url-for "${tests[$i]}=${extra[$i]}")
done

$TOOLKIT conformance run --client "$CLIENT_ID" --start-url "$SERVICE_URL" ${ONLY:+--only "$ONLY"} "${own[@]}" \
  --junit "$OUT/junit.xml" --report "$OUT/report.jws"
