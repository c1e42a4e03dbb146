#!/usr/bin/env python3
"""A paginated JSON API over a CSV file, for bench/sources/throughput.sh.

    api_server.py DATA.csv PORT [PAGE_ROWS]

GET /records?cursor=N returns {"data": [records N..N+PAGE_ROWS-1], "next": "N+PAGE_ROWS"}
("next": null on the last page). Pages are serialised once at start, so the
server's cost per request is sending bytes: what is measured is Gyre's pull
(requests, JSON decoding, flattening into typed columns), close to an API that
answers instantly. Numbers stay numbers (ints and floats as in the CSV).
"""
import csv
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def typed(v):
    if v == "":
        return None
    for f in (int, float):
        try:
            return f(v)
        except ValueError:
            pass
    return v


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    page = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with open(path, newline="") as fh:
        rows = [{k: typed(v) for k, v in r.items()} for r in csv.DictReader(fh)]
    pages = {}
    for start in range(0, len(rows), page):
        nxt = str(start + page) if start + page < len(rows) else None
        pages[str(start)] = json.dumps({"data": rows[start:start + page], "next": nxt}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            u = urlparse(self.path)
            cur = parse_qs(u.query).get("cursor", ["0"])[0]
            body = pages.get(cur)
            if u.path != "/records" or body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    print(f"api_server: {len(rows)} records in {len(pages)} pages on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
