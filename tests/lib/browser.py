#!/usr/bin/env python3
"""Open a local HTML file in headless Chromium through ChromeDriver (W3C
WebDriver over loopback HTTP, Python standard library only) and report
what a person would see: console errors, the page's text, its section
ids, the timeline SVG's size and bars, and a PNG screenshot.

usage: browser.py [--png FILE] [--timeout S] HTML_FILE

Prints one JSON document on stdout:
  {"severe": [...], "log": [...], "page": {...}, "png": FILE or null}
Exit 0: the page loaded and the console holds no SEVERE entry; 1: it
holds one (each printed on stderr); 2: the browser could not be driven
(no Chromium, no ChromeDriver, a WebDriver error).  The session is always
deleted and ChromeDriver always stopped.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# This machine's network is closed: without the background-networking
# flags Chromium keeps trying to reach Google's hosts.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000"]

PAGE_SCRIPT = """
const svg = document.querySelector('#timeline svg');
const vis = e => {
  const r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return r.width > 0 && r.height > 0 && s.display !== 'none' &&
    s.visibility !== 'hidden';
};
let box = null, bars = 0, shown = 0;
if (svg) {
  const r = svg.getBoundingClientRect();
  box = {x: r.x, y: r.y, width: r.width, height: r.height, visible: vis(svg)};
  const b = svg.querySelectorAll('rect.bar');
  bars = b.length;
  shown = Array.from(b).filter(vis).length;
}
return {
  title: document.title,
  text: document.body ? document.body.innerText : '',
  sections: Array.from(document.querySelectorAll('section[id]')).map(s => s.id),
  scripts: document.querySelectorAll('script').length,
  resources: performance.getEntriesByType('resource').map(e => e.name),
  timeline: box,
  bars: bars,
  bars_visible: shown,
  event_rows: document.querySelectorAll('#events tbody tr').length,
  width: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight
};
"""


class DriverError(Exception):
    pass


def free_port():
    # ChromeDriver has no --port=0: take a free port from the kernel.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    rq = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        rq.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(rq, timeout=timeout) as r:
            return json.loads(r.read().decode() or "{}").get("value")
    except urllib.error.HTTPError as e:
        raw = e.read().decode(errors="replace")
        try:
            v = json.loads(raw).get("value", {})
            msg = "%s: %s" % (v.get("error"), v.get("message", "")[:500])
        except ValueError:
            msg = raw[:500]
        raise DriverError("%s %s: HTTP %d: %s" % (method, path, e.code, msg))
    except (urllib.error.URLError, OSError) as e:
        raise DriverError("%s %s: %s" % (method, path, e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("--png")
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args()

    out = {"severe": [], "log": [], "page": None, "png": None, "error": None}
    html = os.path.abspath(a.html)
    if not os.path.isfile(html):
        out["error"] = "no such file: %s" % html
        print(json.dumps(out))
        return 2
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            out["error"] = "%s is missing (make deps installs chromium " \
                "and chromium-driver)" % exe
            print(json.dumps(out))
            return 2

    tmp = tempfile.mkdtemp(prefix="accord-browser.")
    drv = None
    base = None
    sid = None
    rc = 2
    try:
        port = free_port()
        base = "http://127.0.0.1:%d" % port
        drv = subprocess.Popen(
            [CHROMEDRIVER, "--port=%d" % port,
             "--log-path=%s" % os.path.join(tmp, "chromedriver.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.time() + a.timeout
        while True:
            try:
                st = call(base, "GET", "/status", timeout=2)
                if st and st.get("ready"):
                    break
            except DriverError:
                pass
            if drv.poll() is not None:
                raise DriverError("chromedriver exited with %d" %
                                  drv.returncode)
            if time.time() > deadline:
                raise DriverError("chromedriver not ready after %gs" %
                                  a.timeout)
            time.sleep(0.1)

        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": FLAGS + ["--user-data-dir=%s" %
                                 os.path.join(tmp, "profile")],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        v = call(base, "POST", "/session", caps, timeout=a.timeout * 2)
        sid = v["sessionId"]
        s = "/session/%s" % sid
        call(base, "POST", s + "/timeouts",
             {"pageLoad": int(a.timeout * 1000), "script": 10000})
        call(base, "POST", s + "/url", {"url": "file://" + html})
        out["page"] = call(base, "POST", s + "/execute/sync",
                           {"script": PAGE_SCRIPT, "args": []})
        if a.png:
            b64 = call(base, "GET", s + "/screenshot")
            with open(a.png, "wb") as f:
                f.write(base64.b64decode(b64))
            out["png"] = a.png
        # Read the log last, so that errors raised while the page was
        # scripted or drawn are in it too.
        log = call(base, "POST", s + "/se/log", {"type": "browser"}) or []
        out["log"] = log
        out["severe"] = [e for e in log if e.get("level") == "SEVERE"]
        for e in out["severe"]:
            sys.stderr.write("browser: SEVERE: %s\n" % e.get("message"))
        rc = 1 if out["severe"] else 0
    except (DriverError, KeyError, TypeError, ValueError) as e:
        out["error"] = str(e)
        sys.stderr.write("browser: %s\n" % e)
        logf = os.path.join(tmp, "chromedriver.log")
        if os.path.exists(logf):
            with open(logf, errors="replace") as f:
                tail = f.read()[-3000:]
            sys.stderr.write("browser: chromedriver log tail:\n%s\n" % tail)
        rc = 2
    finally:
        if sid is not None:
            try:
                call(base, "DELETE", "/session/%s" % sid, timeout=20)
            except DriverError as e:
                sys.stderr.write("browser: deleting the session: %s\n" % e)
        if drv is not None:
            drv.terminate()
            try:
                drv.wait(timeout=10)
            except subprocess.TimeoutExpired:
                drv.kill()
                drv.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))
    return rc


if __name__ == "__main__":
    sys.exit(main())
