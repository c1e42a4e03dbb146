#!/usr/bin/env bash
# logging.sh: requests/s of gyre serve with the prediction log off and on, for
# two binaries (an old and a new build) run alternately, ROUNDS times.
# DURABLE=1 instead runs gyre-new alone with the log off, on, and durable
# (--log-durable: each logged request fsynced to a write-ahead directory in
# the run's GYRE_HOME before it is answered), alternately.
# WORK holds gyre-old, gyre-new and adult300.gyre (gyre train
# examples/data/adult/adult.train.csv --target class --learner gbdt
# --set n_estimators=300 --out adult300.gyre). Needs wrk, curl, sqlite3.
set -u
B=$(cd "$(dirname "$0")" && pwd)
cd "${WORK:-/tmp/plog}"
port=18190
run() { # label bin logflag
	home=$(mktemp -d)
	GYRE_HOME=$home $2 serve adult300.gyre --addr 127.0.0.1:$port ${3//@WAL/$home/wal} 2>serve-$1.log &
	p=$!
	until curl -sf -o /dev/null http://127.0.0.1:$port/v2/health/ready; do sleep 0.05; done
	BODY_FILE=$B/request.json REQ_PATH=/invocations wrk -t1 -c64 -d2s -s $B/post.lua http://127.0.0.1:$port >/dev/null 2>&1
	r=$(BODY_FILE=$B/request.json REQ_PATH=/invocations wrk -t1 -c64 -d${DUR:-10s} -s $B/post.lua http://127.0.0.1:$port 2>&1 | awk '/^Requests\/sec:/ {print $2}')
	sleep 1.5
	stored=$(curl -s http://127.0.0.1:$port/metrics | awk '/^gyre_prediction_log_(stored|dropped)_total/ {printf "%s=%s ", $1, $2}')
	[[ -d $home/wal ]] && stored="$stored wal_bytes_left=$(du -sb $home/wal | cut -f1)"
	kill $p; wait $p 2>/dev/null
	rows=""
	[[ -n "$3" ]] && rows=$(sqlite3 $home/gyre.db "SELECT COALESCE(SUM(n),0) FROM prediction_chunks" 2>/dev/null)+$(sqlite3 $home/gyre.db "SELECT COALESCE(SUM(n),0) FROM prediction_log" 2>/dev/null)
	echo "$1 req/s=$r logged_rows=$rows $stored load=$(cut -d' ' -f1 /proc/loadavg)"
	rm -rf $home
}
if [[ "${DURABLE:-}" == 1 ]]; then
	for i in $(seq 1 ${ROUNDS:-3}); do
		run off ./gyre-new ""
		run log ./gyre-new "--log-predictions"
		run durable ./gyre-new "--log-predictions --log-durable @WAL"
	done
	exit 0
fi
for i in $(seq 1 ${ROUNDS:-2}); do
	run old_off ./gyre-old ""
	run new_off ./gyre-new ""
	run old_log ./gyre-old "--log-predictions"
	run new_log ./gyre-new "--log-predictions"
done
