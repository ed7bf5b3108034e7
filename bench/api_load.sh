#!/usr/bin/env bash
# API load benchmark (issue 5): job creation and job polling through gunicorn + PostgreSQL + Redis on localhost,
# driven by wrk (Debian package `wrk`). Prints wrk's latency distributions; figures go into docs/benchmarks.md.
# Usage: bash bench/api_load.sh   (needs PostgreSQL on 127.0.0.1:5432 and Redis on 6379, as on the dev machines)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
PY=.venv/bin/python
PORT="${PORT:-8791}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-8}"
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shopvideo_bench}"
export REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/5}"
export SHOPVIDEO_VAR_DIR="$PWD/var/bench-api"
export SHOPVIDEO_API_THROTTLE_RATE="1000000/min"  # measure the service, not the rate limit
WORK="$SHOPVIDEO_VAR_DIR"; mkdir -p "$WORK"

psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS shopvideo_bench" >/dev/null
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE shopvideo_bench" >/dev/null
redis-cli -u "$REDIS_URL" flushdb >/dev/null
$PY manage.py migrate -v 0
KEY=$($PY manage.py create_api_key --org bench-shop --name bench | tail -n 1)
$PY manage.py grant_credits --org bench-shop 100000000 --reason "API benchmark" >/dev/null
$PY - "$WORK/photo.png" <<'PYEOF'
import sys
sys.path.insert(0, ".")
from tests.synthetic import product_png_alpha
product_png_alpha(640, 800)[0].save(sys.argv[1])
PYEOF

.venv/bin/gunicorn -c python:shop_video.gunicorn_conf shop_video.wsgi:application --bind "127.0.0.1:$PORT" --workers 3 --threads 2 \
  --log-level warning --pid "$WORK/gunicorn.pid" >"$WORK/gunicorn.log" 2>&1 &
trap 'kill $(cat "$WORK/gunicorn.pid") 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

API="http://127.0.0.1:$PORT/api/v1"
PRODUCT=$(curl -sf -H "Authorization: Bearer $KEY" -F title="Bench bottle" -F sku=BENCH-1 -F category=home \
  -F photos=@"$WORK/photo.png" "$API/products" | $PY -c "import json,sys; print(json.load(sys.stdin)['id'])")
BODY="{\"product\": $PRODUCT, \"markets\": [\"us\"], \"aspect_ratios\": [\"9:16\"], \"seconds\": 5}"
JOB=$(curl -sf -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d "$BODY" "$API/jobs" \
  | $PY -c "import json,sys; print(json.load(sys.stdin)['jobs'][0]['id'])")

cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

echo "## job polling: GET /api/v1/jobs/$JOB ($CONNECTIONS connections, $DURATION)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/get.lua" "$API/jobs/$JOB"
echo "## job creation: POST /api/v1/jobs, one video per request ($CONNECTIONS connections, $DURATION)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$API/jobs"
echo "## checks"
$PY manage.py shell -c "from generation.models import Job; print('jobs created:', Job.objects.count())"
grep -c " 500 \|Traceback" "$WORK/gunicorn.log" || true
