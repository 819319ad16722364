#!/usr/bin/python3
"""http-sink.py LOG [--fail N] [--fail-after K] [--status CODE] - an HTTP
server for sstream-sink --post tests, on 127.0.0.1 at a free port, which
it prints on stdout (one line) once it listens.

Each request is logged to LOG, flushed at once: a line "STATUS METHOD
PATH BATCH-TIME CONTENT-TYPE" (the X-Sstream-Batch-Time header, "-" when
missing), then the body and a newline. The first N requests (--fail), or
every one after the first K (--fail-after), are answered CODE (503), the
others 200.
"""
import argparse
import http.server
import sys

a = argparse.ArgumentParser()
a.add_argument("log")
a.add_argument("--fail", type=int, default=0)
a.add_argument("--fail-after", type=int, default=-1)
a.add_argument("--status", type=int, default=503)
args = a.parse_args()
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        seen += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fail = seen <= args.fail or (0 <= args.fail_after < seen)
        status = args.status if fail else 200
        with open(args.log, "ab") as f:
            f.write(("%d %s %s %s %s\n" % (
                status, self.command, self.path,
                self.headers.get("X-Sstream-Batch-Time", "-"),
                self.headers.get("Content-Type", "-"))).encode())
            f.write(body + b"\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
