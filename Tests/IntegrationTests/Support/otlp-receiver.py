#!/usr/bin/env python3
"""An OTLP/HTTP receiver on 127.0.0.1, for the test of the probe's span export.

usage: otlp-receiver.py OUT_DIR PORT

Every POST to /v1/traces is answered 200 with an empty ExportTraceServiceResponse; its body (gunzipped when
sent with Content-Encoding: gzip) is written to OUT_DIR/N.bin, and "N PATH CONTENT-TYPE LENGTH" is appended to
OUT_DIR/requests.log. Any other request is answered 404. It exits by itself after 120 s.
"""
import gzip
import http.server
import os
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            self.answer(404, b"")
            return
        if self.headers.get("Content-Encoding", "") == "gzip":
            body = gzip.decompress(body)
        with Handler.lock:
            Handler.count += 1
            number = Handler.count
            with open(os.path.join(OUT_DIR, "%d.bin" % number), "wb") as out:
                out.write(body)
            with open(os.path.join(OUT_DIR, "requests.log"), "a") as log:
                log.write("%d %s %s %d\n" % (number, self.path, self.headers.get("Content-Type", ""), len(body)))
        self.answer(200, b"")

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


def main():
    global OUT_DIR
    OUT_DIR, port = sys.argv[1], int(sys.argv[2])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("listening", flush=True)
    time.sleep(120)


if __name__ == "__main__":
    main()
