#!/usr/bin/python3
"""A loopback HTTP server that answers from a script, for the HTTP client's
unit tests.  Each path has a list of canned responses served in order (the
last one repeats), so a test can say "503, then 200" or "429 with
Retry-After: 1" and then read, from the log, exactly what the client sent:
method, path, headers, body, and which connection carried it.

    faultserver.py --port-file F --log LOG.jsonl [--script S.json]
                   [--parent-pid PID]

Listens on 127.0.0.1, port written to F (atomically) once listening; exits
when PID (default: our parent) goes away.  Script JSON:

    {"routes": {"/path": [RESPONSE, ...] | RESPONSE, "*": ...}}

A route key with a query ("/p?x=1") matches that exact target first, then
the bare path, then "*".  RESPONSE fields, all optional:
    status       int, 200
    headers      {"Name": "value"} or [["Name", "value"], ...] (repeats)
    body         a string, or any JSON value (sent as application/json)
    echo         true: the body is a JSON object describing this request
                 {"method", "path", "body", "headers"}
    delay_ms     wait before answering
    retry_after_in  seconds: adds Retry-After as an HTTP-date that far ahead
    gzip         true: body gzip-compressed, Content-Encoding: gzip
    truncate     N: declare the full Content-Length, send N bytes, close
    close        true: Connection: close
    times        how many requests this entry answers before the next, 1

Control (not logged): PUT /_fault/routes {"routes": {...}} adds or replaces
routes and restarts their sequences; GET /_fault/log; DELETE /_fault/log.
Log: one JSON object per request: {"seq", "conn", "client_port", "method",
"path", "headers", "body", "status", "ts"}; "conn" numbers connections in
the order they were accepted.
"""

import argparse
import email.utils
import gzip
import http.server
import json
import os
import sys
import threading
import time

LOCK = threading.Lock()
ROUTES = {}          # key -> list of response dicts
CURSOR = {}          # key -> [entry index, times served at that index]
LOG = []
STATE = {"conn": 0, "seq": 0, "logf": None}


def set_routes(routes):
    with LOCK:
        for key, spec in routes.items():
            ROUTES[key] = spec if isinstance(spec, list) else [spec]
            CURSOR[key] = [0, 0]


def next_response(target):
    path = target.split("?", 1)[0]
    with LOCK:
        for key in (target, path, "*"):
            if key in ROUTES and ROUTES[key]:
                seq = ROUTES[key]
                cur = CURSOR[key]
                resp = seq[cur[0]]
                cur[1] += 1
                if cur[1] >= int(resp.get("times", 1)) and cur[0] < len(seq) - 1:
                    cur[0] += 1
                    cur[1] = 0
                return resp
    return {"status": 404, "body": {"error": "no route for " + path}}


def log_request(entry):
    with LOCK:
        STATE["seq"] += 1
        entry["seq"] = STATE["seq"]
        LOG.append(entry)
        f = STATE["logf"]
        if f is not None:
            f.write(json.dumps(entry) + "\n")
            f.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultserver/1"

    def setup(self):
        super().setup()
        with LOCK:
            STATE["conn"] += 1
            self.conn_id = STATE["conn"]

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_raw(self, status, headers, body, declared=None, close=False):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def control(self, body):
        if self.path == "/_fault/routes" and self.command == "PUT":
            set_routes(json.loads(body or b"{}").get("routes", {}))
            return self.send_raw(204, [], b"")
        if self.path == "/_fault/log" and self.command == "GET":
            with LOCK:
                data = json.dumps(LOG).encode()
            return self.send_raw(200, [("Content-Type", "application/json")], data)
        if self.path == "/_fault/log" and self.command == "DELETE":
            with LOCK:
                LOG.clear()
            return self.send_raw(204, [], b"")
        return self.send_raw(404, [], b"")

    def answer(self):
        raw = self.read_body()
        if self.path.startswith("/_fault/"):
            return self.control(raw)
        text = raw.decode("utf-8", "replace")
        headers = {}
        for name, value in self.headers.items():
            headers[name] = headers[name] + ", " + value if name in headers else value
        resp = next_response(self.path)
        status = int(resp.get("status", 200))
        log_request({"conn": self.conn_id, "client_port": self.client_address[1],
                     "method": self.command, "path": self.path, "headers": headers,
                     "body": text, "status": status, "ts": time.time()})
        if resp.get("delay_ms"):
            time.sleep(resp["delay_ms"] / 1000.0)
        out = []
        spec = resp.get("headers", {})
        out.extend(spec.items() if isinstance(spec, dict) else [tuple(h) for h in spec])
        if resp.get("echo"):
            body = {"method": self.command, "path": self.path, "body": text,
                    "headers": headers}
        else:
            body = resp.get("body", "")
        if isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
            if not any(n.lower() == "content-type" for n, _ in out):
                out.append(("Content-Type", "application/json"))
        if "retry_after_in" in resp:
            out.append(("Retry-After", email.utils.formatdate(
                time.time() + float(resp["retry_after_in"]), usegmt=True)))
        if resp.get("gzip"):
            data = gzip.compress(data)
            out.append(("Content-Encoding", "gzip"))
        if "truncate" in resp:
            n = int(resp["truncate"])
            self.send_response(status)
            for name, value in out:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:n])
            self.wfile.flush()
            self.close_connection = True
            return None
        return self.send_raw(status, out, data, close=bool(resp.get("close")))

    def handle_one(self):
        try:
            self.answer()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_one


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def watchdog(pid):
    ppid = os.getppid()
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        if os.getppid() != ppid:
            os._exit(0)
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--script")
    ap.add_argument("--parent-pid", type=int, default=os.getppid())
    a = ap.parse_args()
    if a.script:
        with open(a.script) as f:
            set_routes(json.load(f).get("routes", {}))
    if a.log:
        STATE["logf"] = open(a.log, "a")
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    threading.Thread(target=watchdog, args=(a.parent_pid,), daemon=True).start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
