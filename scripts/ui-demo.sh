#!/bin/sh
# ui-demo.sh: fill a fresh store with the README's main job and open the
# web UI on it, so a new user sees every page populated by real runs on
# the example data:
#   - gyre automl and gyre train on adult (examples/data/adult), both with
#     the test file (metrics, evaluation plots) and registered as
#     adult-income, the GBDT version aliased @production;
#   - gyre pipeline run examples/gyre.yaml (bike sharing: steps, gate,
#     triggers, validation);
#   - gyre serve adult-income@production --log-predictions, sent adult's
#     test rows and then their labels (production volume, drift,
#     performance);
#   - gyre server with an admin account, whose token is printed.
# Usage (from the repository root):
#   scripts/ui-demo.sh                 # store in a new temporary GYRE_HOME
#   GYRE_HOME=~/gyre-demo DEMO_BUDGET=20s DEMO_PORT=5000 scripts/ui-demo.sh
# Needs Go (to build gyre unless GYRE names a binary), curl and python3.
set -eu
cd "$(dirname "$0")/.."
GYRE=${GYRE:-}
if [ -z "$GYRE" ]; then
	GYRE=$(mktemp -d)/gyre
	go build -o "$GYRE" ./cmd/gyre
fi
export GYRE_HOME="${GYRE_HOME:-$(mktemp -d)}"
mkdir -p "$GYRE_HOME"
BUDGET=${DEMO_BUDGET:-60s}
PORT=${DEMO_PORT:-5000}
SERVE_PORT=${DEMO_SERVE_PORT:-18431}
D=examples/data/adult
echo "ui-demo: store in $GYRE_HOME"

"$GYRE" automl $D/adult.train.csv --target class --budget "$BUDGET" --test $D/adult.test.csv \
	--out "$GYRE_HOME/adult.gyre" --html "$GYRE_HOME/automl.html" --register adult-income
"$GYRE" train $D/adult.train.csv --target class --learner gbdt --test $D/adult.test.csv \
	--out "$GYRE_HOME/gbdt.gyre" --register adult-income
"$GYRE" models alias adult-income 2 production
"$GYRE" pipeline run examples/gyre.yaml

# Production traffic: adult's test rows in requests of 100, then the labels.
"$GYRE" serve adult-income@production --addr 127.0.0.1:"$SERVE_PORT" --log-predictions &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$SERVE_PORT/v2/health/ready" >/dev/null 2>&1; do sleep 0.5; done
python3 - "$SERVE_PORT" $D/adult.test.csv <<'PY'
import csv, json, sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
base = "http://127.0.0.1:%s/v1/models/adult-income" % port
def post(url, doc):
    req = urllib.request.Request(url, json.dumps(doc).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
def num(v):
    try:
        return float(v) if "." in v else int(v)
    except ValueError:
        return v if v != "" else None
rows = list(csv.DictReader(open(path, newline="")))
sent = 0
for i in range(0, len(rows), 100):
    batch = rows[i:i + 100]
    labels = [r.pop("class") for r in batch]
    out = post(base + "/predict", {"records": [{k: num(v) for k, v in r.items()} for r in batch]})
    post(base + "/feedback", {"feedback": [{"request_id": out["request_id"], "row": j, "label": l} for j, l in enumerate(labels)]})
    sent += len(batch)
print("ui-demo: %d predictions logged with their labels" % sent)
PY
kill $SERVE
wait $SERVE 2>/dev/null || true
trap - EXIT

echo "ui-demo: open http://127.0.0.1:$PORT/ and log in with the token printed below (account admin)"
exec "$GYRE" server --addr 127.0.0.1:"$PORT" --bootstrap-admin admin
