#!/usr/bin/env bash
# Load benchmark for `gyre serve` (issue 9's "Fast" bar), side by side with the
# Flask + scikit-learn server in ../shared/bench/flask_server.py.
#
#   bench/serve/run.sh                 # 30 s per load run, as the issue states
#   DURATION=10s bench/serve/run.sh    # quicker
#
# It installs nothing. It needs wrk (Debian package wrk) and /usr/bin/python3
# with flask and sklearn (apt-get install -y python3-flask python3-sklearn
# python3-pandas). Everything listens on 127.0.0.1 only.
#
# What it measures:
#   1. single-row JSON requests, 64 connections (CONNS), DURATION each:
#      gyre /invocations (the same dataframe_split body the Flask server gets),
#      gyre /v1/models/{name}/predict (records) and Flask /invocations;
#      requests/s, p50/p99 latency, non-2xx responses and socket errors;
#   2. cold start: process start to /v2/health/ready answering (median of 5);
#   3. the floor: bench/serve/floor, a server on the same transport that reads
#      the body and answers a fixed response (no model, no decoding), under
#      the same load: the latency this machine puts under any server; and,
#      when nginx is installed (apt-get install -y nginx-light), nginx
#      answering a fixed string the same way (2 workers; its CPU per
#      request is not measured), as a second floor;
#   4. hot reload under load: adult-income@production served from a temporary
#      GYRE_HOME registry, the alias moved 10 times between two versions while
#      wrk runs; reports non-2xx responses (want 0) and reloads seen.
#
# Knobs (environment): DURATION (30s), CONNS (64), WRK_THREADS (1),
# SERVE_PROCS (GOMAXPROCS for gyre serve; default unset = all cores),
# WRK_CPUS (pin wrk to these CPUs with taskset, e.g. 1; default unpinned),
# GYRE_BIN (a prebuilt gyre; default: go build), BUNDLE (a prebuilt 300-tree
# adult bundle), SKIP_FLASK=1, SKIP_FLOOR=1, SKIP_RELOAD=1, PORT_BASE (18080).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${SHARED:-$root/../shared}
DURATION=${DURATION:-30s}
CONNS=${CONNS:-64}
WRK_THREADS=${WRK_THREADS:-1}
PORT_BASE=${PORT_BASE:-18080}
gport=$PORT_BASE
fport=$((PORT_BASE + 1))
rport=$((PORT_BASE + 2))
lport=$((PORT_BASE + 3))
nport=$((PORT_BASE + 4))

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 not found: $2" >&2; exit 1; }; }
need wrk "apt-get install -y wrk"
need curl "apt-get install -y curl"
if [[ -z "${SKIP_FLASK:-}" ]]; then
	/usr/bin/python3 -c 'import flask, sklearn, pandas' 2>/dev/null ||
		{ echo "run.sh: /usr/bin/python3 lacks flask/sklearn/pandas: apt-get install -y python3-flask python3-sklearn python3-pandas" >&2; exit 1; }
	[[ -f "$shared/bench/flask_server.py" ]] || { echo "run.sh: $shared/bench/flask_server.py not found (set SHARED)" >&2; exit 1; }
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

gyre=${GYRE_BIN:-}
if [[ -z "$gyre" ]]; then
	echo "building gyre..." >&2
	(cd "$root" && GOTOOLCHAIN=local go build -trimpath -o "$work/gyre" ./cmd/gyre)
	gyre=$work/gyre
fi
if [[ -z "${SKIP_FLOOR:-}" ]]; then
	(cd "$root" && GOTOOLCHAIN=local go build -trimpath -o "$work/floor" ./bench/serve/floor)
fi
data=$root/examples/data/adult/adult.train.csv
bundle=${BUNDLE:-}
if [[ -z "$bundle" ]]; then
	echo "training the 300-tree adult GBDT..." >&2
	"$gyre" train "$data" --target class --learner gbdt --set n_estimators=300 --out "$work/adult300.gyre" >/dev/null
	bundle=$work/adult300.gyre
fi

# wait_http URL TRIES: poll until URL answers 200.
wait_http() {
	for ((i = 0; i < $2; i++)); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.05
	done
	echo "run.sh: $1 did not answer" >&2
	return 1
}

# cpu_ticks PID: user+system CPU time of a process (and its threads), in
# clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run_wrk LABEL URL PATH BODYFILE PID: one load run against the server
# process PID ("" to skip its CPU time); appends a result line. Besides wrk's figures it records the
# server's CPU time per request, which the machine's load distorts far less
# than throughput (the load generator and other work share the cores).
results=$work/results.tsv
run_wrk() {
	local out=$work/wrk-$1.txt
	local c0=0 c1=0
	[[ -n "$5" ]] && c0=$(cpu_ticks "$5")
	BODY_FILE=$4 REQ_PATH=$3 "${wrk_cmd[@]}" -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$here/post.lua" "$2" >"$out" 2>&1
	[[ -n "$5" ]] && c1=$(cpu_ticks "$5")
	local rps p50 p99 non2xx sock reqs cpu
	reqs=$(awk '/requests in/ {print $1}' "$out")
	cpu=n/a
	[[ -n "$5" ]] && cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", (b - a) / hz * 1e6 / n }')
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	p50=$(awk '$1 == "50%" {print $2}' "$out")
	p99=$(awk '$1 == "99%" {print $2}' "$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	sock=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}" "$cpu" "${sock:-none}" >>"$results"
	cat "$out" >&2
}

# to_ms LATENCY: wrk's "812.00us" / "3.21ms" / "1.02s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else print "nan" }'
}

echo "load: $(uptime)" >&2
wrk_cmd=(wrk)
[[ -n "${WRK_CPUS:-}" ]] && wrk_cmd=(taskset -c "$WRK_CPUS" wrk)
serve_env=()
[[ -n "${SERVE_PROCS:-}" ]] && serve_env=(GOMAXPROCS="$SERVE_PROCS")

# 1. Cold start.
cold=()
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	env "${serve_env[@]}" "$gyre" serve "$bundle" --addr "127.0.0.1:$gport" 2>>"$work/gyre.log" &
	p=$!
	until curl -sf -o /dev/null "http://127.0.0.1:$gport/v2/health/ready"; do
		kill -0 "$p" 2>/dev/null || { echo "run.sh: gyre serve exited; log:" >&2; cat "$work/gyre.log" >&2; exit 1; }
		sleep 0.002
	done
	t1=$(date +%s%N)
	cold+=($(((t1 - t0) / 1000000)))
	kill "$p"
	wait "$p" 2>/dev/null || true
done
cold_ms=$(printf '%s\n' "${cold[@]}" | sort -n | sed -n 3p)
echo "cold start (ms): ${cold[*]} -> median $cold_ms" >&2

# 2. Throughput and latency: gyre, the floor, then Flask, one after the other in this run.
env "${serve_env[@]}" "$gyre" serve "$bundle" --addr "127.0.0.1:$gport" 2>>"$work/gyre.log" &
pids+=($!)
wait_http "http://127.0.0.1:$gport/v2/health/ready" 200
name=$(curl -s "http://127.0.0.1:$gport/v1/models" | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')
curl -s -XPOST "http://127.0.0.1:$gport/invocations" -H 'Content-Type: application/json' -d @"$here/request.json" >&2
echo >&2
BODY_FILE=$here/request.json REQ_PATH=/invocations wrk -t1 -c"$CONNS" -d2s -s "$here/post.lua" "http://127.0.0.1:$gport" >/dev/null 2>&1 # warm up
run_wrk gyre_invocations "http://127.0.0.1:$gport" /invocations "$here/request.json" "${pids[-1]}"
run_wrk gyre_v1_predict "http://127.0.0.1:$gport" "/v1/models/$name/predict" "$here/records.json" "${pids[-1]}"
kill "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true

if [[ -z "${SKIP_FLOOR:-}" ]]; then
	env "${serve_env[@]}" "$work/floor" -addr "127.0.0.1:$lport" 2>>"$work/floor.log" &
	pids+=($!)
	until curl -s -o /dev/null -XPOST -d '{}' "http://127.0.0.1:$lport/invocations"; do sleep 0.02; done
	BODY_FILE=$here/request.json REQ_PATH=/invocations wrk -t1 -c"$CONNS" -d2s -s "$here/post.lua" "http://127.0.0.1:$lport" >/dev/null 2>&1
	run_wrk floor_no_model "http://127.0.0.1:$lport" /invocations "$here/request.json" "${pids[-1]}"
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ -z "${SKIP_FLOOR:-}" ]] && command -v nginx >/dev/null 2>&1; then
	mkdir -p "$work/nginx"
	printf '%s\n' "worker_processes 2; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log crit;" \
		"events { worker_connections 1024; }" \
		"http { access_log off; keepalive_requests 10000000; client_body_buffer_size 16k;" \
		"  server { listen 127.0.0.1:$nport; location / { default_type application/json; return 200 '{\"predictions\":[\"<=50K\"]}'; } } }" \
		>"$work/nginx/nginx.conf"
	nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' 2>>"$work/nginx/error.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$nport/" 200
	BODY_FILE=$here/request.json REQ_PATH=/invocations wrk -t1 -c"$CONNS" -d2s -s "$here/post.lua" "http://127.0.0.1:$nport" >/dev/null 2>&1
	run_wrk floor_nginx "http://127.0.0.1:$nport" /invocations "$here/request.json" ""
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ -z "${SKIP_FLASK:-}" ]]; then
	echo "starting the Flask baseline (it trains at start-up)..." >&2
	/usr/bin/python3 "$shared/bench/flask_server.py" "$shared/datasets/adult" --trees 300 --port "$fport" >"$work/flask.log" 2>&1 &
	pids+=($!)
	wait_http "http://127.0.0.1:$fport/ping" 6000
	curl -s -XPOST "http://127.0.0.1:$fport/invocations" -H 'Content-Type: application/json' -d @"$here/request.json" >&2
	echo >&2
	BODY_FILE=$here/request.json REQ_PATH=/invocations wrk -t1 -c"$CONNS" -d2s -s "$here/post.lua" "http://127.0.0.1:$fport" >/dev/null 2>&1
	run_wrk flask_invocations "http://127.0.0.1:$fport" /invocations "$here/request.json" "${pids[-1]}"
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
fi

# 4. Hot reload under load: move adult-income@production 10 times.
reload_line=""
if [[ -z "${SKIP_RELOAD:-}" ]]; then
	export GYRE_HOME=$work/home
	"$gyre" train "$data" --target class --learner gbdt --set n_estimators=100 --out "$work/adult100.gyre" >/dev/null
	"$gyre" models register adult-income "$bundle" >/dev/null
	"$gyre" models register adult-income "$work/adult100.gyre" >/dev/null
	"$gyre" models alias adult-income 1 production >/dev/null
	env "${serve_env[@]}" "$gyre" serve adult-income@production --reload 250ms --addr "127.0.0.1:$rport" 2>>"$work/gyre-reload.log" &
	pids+=($!)
	wait_http "http://127.0.0.1:$rport/v2/health/ready" 200
	out=$work/wrk-reload.txt
	BODY_FILE=$here/request.json REQ_PATH=/invocations "${wrk_cmd[@]}" -t"$WRK_THREADS" -c"$CONNS" -d12s --latency -s "$here/post.lua" "http://127.0.0.1:$rport" >"$out" 2>&1 &
	wrkpid=$!
	sleep 0.5
	for i in $(seq 1 10); do
		"$gyre" models alias adult-income $((i % 2 + 1)) production >/dev/null
		sleep 1
	done
	wait "$wrkpid"
	cat "$out" >&2
	reloads=$(curl -s "http://127.0.0.1:$rport/metrics" | awk '/^gyre_model_reloads_total/ {print $2}')
	served=$(curl -s "http://127.0.0.1:$rport/v1/models/adult-income" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	sock=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' "$out")
	total=$(awk '/requests in/ {print $1}' "$out")
	reload_line="hot reload: 10 alias moves, $reloads reloads seen, $total requests, non-2xx ${non2xx:-0}, socket errors ${sock:-none}, now serving version $served"
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
fi

# Report.
echo
echo "gyre serve load benchmark: adult, 300-tree GBDT, single-row JSON, $CONNS connections, $DURATION, wrk -t$WRK_THREADS${WRK_CPUS:+ on CPUs $WRK_CPUS}${SERVE_PROCS:+, GOMAXPROCS=$SERVE_PROCS}"
echo "machine: $(nproc) cores; load average at the end: $(uptime | sed 's/.*load average: //')"
printf '%-20s %10s %9s %9s %7s %13s  %s\n' server "req/s" "p50 ms" "p99 ms" non2xx "server CPU/req" "socket errors"
while IFS=$'\t' read -r label rps p50 p99 non2xx cpu sock; do
	printf '%-20s %10s %9s %9s %7s %11s us  %s\n' "$label" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$non2xx" "$cpu" "$sock"
done <"$results"
frps=$(awk -F'\t' '$1 == "flask_invocations" {print $2}' "$results")
if [[ -n "$frps" ]]; then
	fp99=$(to_ms "$(awk -F'\t' '$1 == "flask_invocations" {print $4}' "$results")")
	fcpu=$(awk -F'\t' '$1 == "flask_invocations" {print $6}' "$results")
	while IFS=$'\t' read -r label rps p50 p99 non2xx cpu sock; do
		[[ $label == flask_* || $label == floor_* ]] && continue
		awk -v l="$label" -v r="$rps" -v f="$frps" -v p="$(to_ms "$p99")" -v fp="$fp99" -v c="$cpu" -v fc="$fcpu" \
			'BEGIN { printf "ratio %-20s throughput %.1fx Flask, p99 %.2f ms vs %.2f ms, server CPU per request %.1fx less\n", l, r / f, p, fp, fc / c }'
	done <"$results"
fi
echo "cold start to /v2/health/ready (300 trees): median ${cold_ms} ms of 5 (${cold[*]})"
[[ -n "$reload_line" ]] && echo "$reload_line"
