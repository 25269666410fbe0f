#!/usr/bin/env bash
# `make run`: migrate, seed a demo shop when empty, start Redis if none answers, then web + worker + cron.
set -euo pipefail
cd "$(dirname "$0")/.."
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export PORT="${PORT:-5000}"
FLASK=".venv/bin/flask --app wsgi"
mkdir -p instance

redis_answers() { .venv/bin/python -c "import redis,sys; redis.Redis.from_url('$REDIS_URL', socket_connect_timeout=1).ping()" 2>/dev/null; }

OWN_REDIS_PID=""
if ! redis_answers; then
  port=$(.venv/bin/python -c "from urllib.parse import urlsplit; print(urlsplit('$REDIS_URL').port or 6379)")
  echo "No Redis answers at $REDIS_URL; starting a local redis-server on port $port (data in instance/redis)."
  mkdir -p instance/redis
  redis-server --port "$port" --bind 127.0.0.1 --dir "$PWD/instance/redis" --save 60 1 --appendonly no \
    --daemonize yes --pidfile "$PWD/instance/redis/redis.pid" --logfile "$PWD/instance/redis/redis.log"
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  OWN_REDIS_PID=$(cat instance/redis/redis.pid)
fi
HONCHO_PID=""
stop_all() {
  if [ -n "$HONCHO_PID" ]; then kill -TERM "$HONCHO_PID" 2>/dev/null || true; wait "$HONCHO_PID" 2>/dev/null || true; fi
  if [ -n "$OWN_REDIS_PID" ]; then kill "$OWN_REDIS_PID" 2>/dev/null || true; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

$FLASK db upgrade
$FLASK demo seed --if-empty
$FLASK forecast run --enqueue --if-none   # first start: the worker forecasts the demo shop's products
TOKEN=$($FLASK users setup-token | tail -n 1)

echo
echo "  Solo OMS is starting at http://127.0.0.1:$PORT/"
if [[ "$TOKEN" == There\ is\ already* ]]; then
  echo "  Sign in with your account (or create one: flask --app wsgi users create --email you@example.com)."
else
  echo "  First visit: create the owner account at http://127.0.0.1:$PORT/setup with this setup token:"
  echo "      $TOKEN"
fi
echo

PATH="$PWD/.venv/bin:$PATH" .venv/bin/honcho start web worker cron &
HONCHO_PID=$!
wait "$HONCHO_PID"
