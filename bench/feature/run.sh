#!/bin/sh
# Side-by-side: Gyre's automatic linear pipeline vs scikit-learn on 1M x 20 rows.
#   sh bench/feature/run.sh
set -e
cd "$(dirname "$0")/../.."
uptime
GOTOOLCHAIN=local go test ./internal/feature/ -run XXX -bench 'AutoLinear|Encoder' -benchtime 3x
/usr/bin/python3 bench/feature/sklearn_auto.py
uptime
