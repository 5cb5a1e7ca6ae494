#!/usr/bin/python3
"""A stateful emulator of the parts of Slack accord uses, on 127.0.0.1,
for the notification and approval-by-reaction tests: the Web API methods
chat.postMessage, reactions.get and users.info (bot token auth, HTTP 200
with {"ok": false, "error": ...} for application errors, JSON or form
bodies, 429 with Retry-After) and incoming webhooks (plain-text answers).
Answers in the wire shapes of platform-apis.md section 11; logs every
request it receives as one JSON line; keeps channels, users and the
messages posted (with their reactions, which tests add through the
control API, as people would in the Slack client); injects faults on
demand.  Shell helpers: tests/lib/notify.sh (slack_start, slacklog...).

    slack.py --port-file F --token xoxb-... [--seed SEED.json]
             [--log LOG.jsonl] [--scopes chat:write,...]
             [--webhook /services/T000/B000/XXXX] [--users-without-full 50]
             [--parent-pid PID] [-v]

Seed (also PUT/GET /_emulator/state; every key optional):
    {"channels": [{"id": "C0123456789", "name": "access-requests",
                   "is_member": true, "is_archived": false}],
     "users": [{"id": "U1", "name": "alice", "real_name": "Alice A",
                "display_name": "", "email": "alice@example.com",
                "is_bot": false, "deleted": false}],
     "webhooks": [{"path": "/services/T000/B000/XXXX", "channel": "C0123456789"}],
     "messages": [{"channel", "ts", "text", "user",
                   "reactions": [{"name", "users": [...]}]}],
     "bot": {"user_id": "U0BOT", "bot_id": "B0BOT"}, "next_ts": 1}
Without "channels" there is C0123456789 ("access-requests"); without
"webhooks" /services/T000/B000/XXXX posts to the first channel.

Web API (/api/METHOD): the token comes as "Authorization: Bearer" or a
form field "token" (never the query string, never a JSON body: those get
not_authed / invalid_auth).  chat.postMessage takes JSON or a form;
reactions.get and users.info take query parameters or a form (a JSON body
is not read, as Slack's reference lists only form bodies for them).  A
JSON body without "; charset=utf-8" still works but the answer carries
"warning": "missing_charset" and response_metadata.warnings, as Slack's.
Errors: not_authed, invalid_auth, missing_scope (+needed, provided; see
--scopes), unknown_method, invalid_request_method (PUT/DELETE),
chat.postMessage: channel_not_found, not_in_channel, is_archived, no_text,
msg_too_long (over 40000 characters); reactions.get: no_item_specified,
channel_not_found, bad_timestamp, message_not_found; users.info:
user_not_found.  Channels match by id or by name ("#name" too); the
answer always names the id.  ts values are deterministic:
1700000000.000100, .000200, ...  reactions.get without full=true lists at
most --users-without-full users per reaction (count stays exact);
"reactions" is absent when there are none.  users.info gives
profile.email only for a person with an email when the token has
users:read.email; bots have profile.bot_id and no email.

Incoming webhooks (/services/...): a JSON body (or the legacy form field
payload=JSON) with "text" (or blocks/attachments) answers 200 "ok" as
text/html; an unknown path 404 "no_service", bad JSON 400
"invalid_payload", no text 400 "no_text", an archived channel 410
"channel_is_archived", a method other than POST 405 "invalid_method".

Control API (not logged): GET/PUT /_emulator/state[?summary=1];
GET /_emulator/messages[?channel=C]; POST /_emulator/react {"channel",
"ts", "name", "user" or "users": [...], "remove": false}; GET/POST/DELETE
/_emulator/faults {"faults": [{"path": REGEX on path?query, "method",
"status", "error", "body", "retry_after", "needed", "provided", "times"
(default 1), "delay_ms"}]} (a fault with only "error" answers HTTP 200
ok:false with it; status 429 adds Retry-After: 1 unless retry_after is
given, null for none; default bodies {"ok": false, "error":
"ratelimited"|"internal_error"|...}, plain text on webhook paths);
GET/DELETE /_emulator/log (a JSON array); GET/PUT /_emulator/config
{"scopes": [...], "users_without_full": N}.

Log line: ts, t, method, path, query, headers (Authorization included, on
purpose), content_type, raw (the body as sent), body (parsed JSON, the
form as a dict, or the text), api_method ("chat.postMessage", ...,
"webhook"), status, ok, error, response, auth_error, token_in
("header"|"form"), fault, ms.

Python 3 standard library only; run with /usr/bin/python3.
"""

import argparse
import copy
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API = "/api/"
HOOKS = "/services/"
TEAM = "T000"
DEFAULT_CHANNEL = {"id": "C0123456789", "name": "access-requests"}
DEFAULT_WEBHOOK = "/services/T000/B000/XXXX"
DEFAULT_BOT = {"user_id": "U0BOT", "bot_id": "B0BOT", "name": "accord"}
ALL_SCOPES = ["chat:write", "reactions:read", "users:read", "users:read.email"]
TS_BASE = 1700000000
MAX_TEXT = 40000
TS_RE = re.compile(r"[0-9]{1,12}\.[0-9]{6}\Z")
CHANNEL_ID_RE = re.compile(r"[CDG][A-Z0-9]{2,}\Z")
USER_ID_RE = re.compile(r"[UWB][A-Z0-9]{1,}\Z")

# method -> (HTTP methods, content types whose body carries arguments,
# scope needed).  Slack's reference lists JSON bodies for write methods
# only; read methods take query parameters or a form.
METHODS = {
    "chat.postMessage": ("GET POST", ("form", "json"), "chat:write"),
    "reactions.get": ("GET POST", ("form",), "reactions:read"),
    "users.info": ("GET POST", ("form",), "users:read"),
}
# Default bodies of injected faults, by status.
FAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable",
                502: "internal_error", 504: "request_timeout", 408: "request_timeout"}
HOOK_FAULT_TEXT = {429: "rate_limited", 500: "rollup_error", 503: "service_unavailable",
                   404: "no_service", 403: "action_prohibited", 410: "channel_is_archived",
                   400: "invalid_payload"}


class SlackError(Exception):
    """An application error: HTTP 200 {"ok": false, "error": code, ...}."""

    def __init__(self, code, **extra):
        Exception.__init__(self, code)
        self.code, self.extra = code, extra


class HookError(Exception):
    """An incoming-webhook error: a status and a plain-text body."""

    def __init__(self, status, text):
        Exception.__init__(self, text)
        self.status, self.text = status, text


def truthy(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return isinstance(v, str) and v.strip().lower() in ("1", "true", "yes")


class State:
    """Channels, users, messages and webhooks; the seed format is also
    what GET /_emulator/state returns and PUT accepts."""

    def __init__(self, seed):
        seed = seed or {}
        if not isinstance(seed, dict):
            raise ValueError("the seed must be a JSON object")
        unknown = set(seed) - {"channels", "users", "messages", "webhooks", "bot", "next_ts"}
        if unknown:
            raise ValueError("unknown seed keys: %s" % ", ".join(sorted(unknown)))
        self.bot = dict(DEFAULT_BOT)
        self.bot.update(seed.get("bot") or {})
        self.channels = []
        for c in seed.get("channels", [DEFAULT_CHANNEL]):
            if not isinstance(c, dict) or not isinstance(c.get("id"), str) \
                    or not CHANNEL_ID_RE.match(c["id"]):
                raise ValueError("a channel needs an id like C0123456789: %r" % (c,))
            self.channels.append({"id": c["id"], "name": c.get("name") or c["id"].lower(),
                                  "is_member": bool(c.get("is_member", True)),
                                  "is_archived": bool(c.get("is_archived", False))})
        if len({c["id"] for c in self.channels}) != len(self.channels):
            raise ValueError("duplicate channel ids")
        self.users = []
        for u in seed.get("users", []):
            if not isinstance(u, dict) or not isinstance(u.get("id"), str) \
                    or not USER_ID_RE.match(u["id"]):
                raise ValueError("a user needs an id like U024BE7LH: %r" % (u,))
            for k in ("name", "real_name", "display_name", "email"):
                if u.get(k) is not None and not isinstance(u[k], str):
                    raise ValueError("user %s: %s must be a string" % (u["id"], k))
            self.users.append({"id": u["id"], "name": u.get("name") or u["id"].lower(),
                               "real_name": u.get("real_name") or "",
                               "display_name": u.get("display_name") or "",
                               "email": u.get("email"),
                               "is_bot": bool(u.get("is_bot", False)),
                               "deleted": bool(u.get("deleted", False))})
        if len({u["id"] for u in self.users}) != len(self.users):
            raise ValueError("duplicate user ids")
        self.webhooks = []
        for w in seed.get("webhooks", [{"path": DEFAULT_WEBHOOK,
                                        "channel": self.channels[0]["id"]
                                        if self.channels else None}]):
            if not isinstance(w, dict) or not isinstance(w.get("path"), str) \
                    or not w["path"].startswith(HOOKS):
                raise ValueError("a webhook needs a path under /services/: %r" % (w,))
            if w.get("channel") is not None and self.channel(w["channel"]) is None:
                raise ValueError("webhook %s: unknown channel %r" % (w["path"], w["channel"]))
            self.webhooks.append({"path": w["path"], "channel": w.get("channel")})
        self.messages = []
        for m in seed.get("messages", []):
            if not isinstance(m, dict) or self.channel(m.get("channel")) is None:
                raise ValueError("a message needs a known channel: %r" % (m,))
            if not isinstance(m.get("ts"), str) or not TS_RE.match(m["ts"]):
                raise ValueError("a message needs a ts like 1700000000.000100: %r" % (m,))
            msg = {"channel": self.channel(m["channel"])["id"], "ts": m["ts"],
                   "text": m.get("text", ""), "user": m.get("user", self.bot["user_id"]),
                   "reactions": []}
            if m.get("thread_ts"):
                msg["thread_ts"] = m["thread_ts"]
            for r in m.get("reactions", []):
                for uid in r.get("users", []):
                    self.react(msg, r["name"], uid)
            self.messages.append(msg)
        self.next_ts = int(seed.get("next_ts", 1))

    def channel(self, ref):
        """By id, or by name with or without '#'."""
        if not isinstance(ref, str) or not ref:
            return None
        for c in self.channels:
            if c["id"] == ref:
                return c
        name = ref[1:] if ref.startswith("#") else ref
        for c in self.channels:
            if c["name"] == name:
                return c
        return None

    def user(self, uid):
        for u in self.users:
            if u["id"] == uid:
                return u
        return None

    def message(self, cid, ts):
        for m in self.messages:
            if m["channel"] == cid and m["ts"] == ts:
                return m
        return None

    def new_ts(self):
        """Unique, increasing, deterministic: 1700000000.000100, .000200..."""
        micros = 100 * self.next_ts
        self.next_ts += 1
        return "%d.%06d" % (TS_BASE + micros // 10**6, micros % 10**6)

    @staticmethod
    def react(msg, name, uid):
        for r in msg["reactions"]:
            if r["name"] == name:
                if uid not in r["users"]:
                    r["users"].append(uid)
                return
        msg["reactions"].append({"name": name, "users": [uid]})

    @staticmethod
    def unreact(msg, name, uid):
        for r in list(msg["reactions"]):
            if r["name"] == name and uid in r["users"]:
                r["users"].remove(uid)
                if not r["users"]:
                    msg["reactions"].remove(r)

    def dump(self):
        return {"bot": dict(self.bot), "channels": copy.deepcopy(self.channels),
                "users": copy.deepcopy(self.users), "webhooks": copy.deepcopy(self.webhooks),
                "messages": copy.deepcopy(self.messages), "next_ts": self.next_ts}

    def counts(self):
        return {"channels": len(self.channels), "users": len(self.users),
                "messages": len(self.messages), "webhooks": len(self.webhooks)}


class Emulator:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        self.args = args
        seed = {}
        if args.seed:
            with open(args.seed, encoding="utf-8") as f:
                seed = json.load(f)
        self.state = State(seed)
        self.scopes = [s for s in (args.scopes or ",".join(ALL_SCOPES)).split(",") if s]
        for w in args.webhook or []:
            if not w.startswith(HOOKS):
                raise ValueError("--webhook must start with /services/")
            if not any(x["path"] == w for x in self.state.webhooks):
                self.state.webhooks.append({"path": w, "channel": self.state.channels[0]["id"]
                                            if self.state.channels else None})
        self.cfg = {"users_without_full": args.users_without_full}
        self.faults = []
        self.entries = []
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(self, entry):
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True)
        with self.log_lock:
            self.entries.append(entry)
            if self.logf:
                self.logf.write(line + "\n")
                self.logf.flush()

    def clear_log(self):
        with self.log_lock:
            self.entries = []
            if self.logf:
                self.logf.seek(0)
                self.logf.truncate()
                self.logf.flush()

    # --- faults ---
    def add_faults(self, faults):
        if not isinstance(faults, list):
            raise ValueError('want {"faults": [...]}')
        out = []
        for f in faults:
            if not isinstance(f, dict):
                raise ValueError("a fault must be an object: %r" % (f,))
            unknown = set(f) - {"method", "path", "status", "body", "error", "retry_after",
                                "times", "delay_ms", "needed", "provided"}
            if unknown:
                raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
            g = dict(f)
            g["_re"] = re.compile(f["path"]) if f.get("path") is not None else None
            st = f.get("status", 200 if f.get("error") else None)
            if not isinstance(st, int) or isinstance(st, bool) or not 100 <= st <= 599:
                raise ValueError("status must be an HTTP status (or give error): %r" % (st,))
            g["status"] = st
            if st == 429 and "retry_after" not in f:
                g["retry_after"] = 1
            times = f.get("times", 1)
            if not isinstance(times, int) or isinstance(times, bool) or times < 1:
                raise ValueError("times must be a positive integer")
            g["times"] = times
            out.append(g)
        with self.lock:
            self.faults.extend(out)

    def public_faults(self):
        with self.lock:
            return [{k: v for k, v in f.items() if not k.startswith("_")} for f in self.faults]

    def take_fault(self, method, target):
        with self.lock:
            for f in self.faults:
                if f.get("method") and f["method"].upper() != method:
                    continue
                if f["_re"] is not None and not f["_re"].search(target):
                    continue
                f["times"] -= 1
                if f["times"] <= 0:
                    self.faults.remove(f)
                return f
        return None

    # --- auth ---
    def check_token(self, headers, form, q, info):
        auth = headers.get("Authorization")
        tok = None
        if auth is not None:
            m = re.match(r"Bearer (\S+)\Z", auth)
            if not m:
                info["auth_error"] = "Authorization is not a Bearer token"
                raise SlackError("invalid_auth")
            tok = m.group(1)
        elif form is not None and form.get("token"):
            tok = form["token"]
        if tok is None:
            info["auth_error"] = ("token in the query string (refused)" if q.get("token")
                                  else "no token")
            raise SlackError("not_authed")
        if tok != self.args.token:
            info["auth_error"] = "wrong token"
            raise SlackError("invalid_auth")
        info["token_in"] = "header" if auth is not None else "form"

    def check_scope(self, scope):
        if scope not in self.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(self.scopes))

    # --- methods ---
    def render_message(self, m, full):
        out = {"type": "message", "text": m["text"], "user": m["user"], "ts": m["ts"],
               "team": TEAM}
        if m["user"] == self.state.bot["user_id"]:
            out["bot_id"] = self.state.bot["bot_id"]
            out["app_id"] = "A0ACCORD"
        if m.get("thread_ts"):
            out["thread_ts"] = m["thread_ts"]
        if m["reactions"]:
            cap = self.cfg["users_without_full"]
            out["reactions"] = [{"name": r["name"],
                                 "users": list(r["users"] if full or cap <= 0
                                               else r["users"][:cap]),
                                 "count": len(r["users"])} for r in m["reactions"]]
        return out

    def post_message(self, a, warnings):
        st = self.state
        ch = a.get("channel")
        if not isinstance(ch, str) or not ch:
            raise SlackError("channel_not_found")
        text = a.get("text")
        has_blocks = bool(a.get("blocks")) or bool(a.get("attachments"))
        if text is not None and not isinstance(text, str):
            raise SlackError("invalid_arguments")
        if not text and not has_blocks:
            raise SlackError("no_text")
        if text and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        c = st.channel(ch)
        if c is None:
            raise SlackError("channel_not_found")
        if c["is_archived"]:
            raise SlackError("is_archived")
        if not c["is_member"]:
            raise SlackError("not_in_channel")
        if text is None and has_blocks:
            warnings.append("missing_text_or_fallback_or_attachments")
        m = {"channel": c["id"], "ts": st.new_ts(), "text": text or "",
             "user": st.bot["user_id"], "reactions": []}
        if a.get("thread_ts"):
            m["thread_ts"] = a["thread_ts"]
        m["args"] = {k: v for k, v in a.items() if k != "token"}
        st.messages.append(m)
        return {"ok": True, "channel": c["id"], "ts": m["ts"],
                "message": self.render_message(m, True)}

    def reactions_get(self, a):
        st = self.state
        ch, ts = a.get("channel"), a.get("timestamp")
        if a.get("file") or a.get("file_comment"):
            raise SlackError("file_not_found")
        if not ch or not ts:
            raise SlackError("no_item_specified")
        c = st.channel(ch)
        if c is None:
            raise SlackError("channel_not_found")
        if not isinstance(ts, str) or not TS_RE.match(ts):
            raise SlackError("bad_timestamp")
        m = st.message(c["id"], ts)
        if m is None:
            raise SlackError("message_not_found")
        return {"ok": True, "type": "message", "channel": c["id"],
                "message": self.render_message(m, truthy(a.get("full")))}

    def users_info(self, a):
        u = self.state.user(a.get("user"))
        if u is None:
            raise SlackError("user_not_found")
        profile = {"real_name": u["real_name"], "real_name_normalized": u["real_name"],
                   "display_name": u["display_name"],
                   "display_name_normalized": u["display_name"],
                   "team": TEAM, "image_24": "https://a.slack-edge.test/%s_24.png" % u["id"],
                   "image_48": "https://a.slack-edge.test/%s_48.png" % u["id"]}
        if u["is_bot"]:
            profile["bot_id"] = "B" + u["id"][1:]
        elif u["email"] and "users:read.email" in self.scopes:
            profile["email"] = u["email"]
        return {"ok": True, "user": {"id": u["id"], "team_id": TEAM, "name": u["name"],
                                     "deleted": u["deleted"], "real_name": u["real_name"],
                                     "tz": "Etc/UTC", "tz_offset": 0,
                                     "is_admin": False, "is_owner": False,
                                     "is_bot": u["is_bot"], "is_app_user": False,
                                     "updated": TS_BASE, "profile": profile}}

    def webhook(self, method, path, ctype, raw):
        st = self.state
        hook = None
        for w in st.webhooks:
            if w["path"] == path:
                hook = w
        if hook is None:
            raise HookError(404, "no_service")
        if method != "POST":
            raise HookError(405, "invalid_method")
        doc = None
        try:
            form = {}
            if ctype.startswith("application/x-www-form-urlencoded"):
                form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            # The legacy form field payload=JSON, else the body as JSON
            # whatever its Content-Type (as Slack takes curl -d '{...}').
            doc = json.loads(form["payload"] if "payload" in form else raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise HookError(400, "invalid_payload")
        if not isinstance(doc, dict):
            raise HookError(400, "invalid_payload")
        text = doc.get("text")
        if text is not None and not isinstance(text, str):
            raise HookError(400, "invalid_payload")
        if not text and not doc.get("blocks") and not doc.get("attachments"):
            raise HookError(400, "no_text")
        c = st.channel(hook["channel"]) if hook["channel"] else None
        if c is None:
            raise HookError(404, "channel_not_found")
        if c["is_archived"]:
            raise HookError(410, "channel_is_archived")
        m = {"channel": c["id"], "ts": st.new_ts(), "text": text or "",
             "user": st.bot["user_id"], "reactions": [], "webhook": path,
             "args": doc}
        st.messages.append(m)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slack-emulator/1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        if self.server.emu.args.verbose:
            sys.stderr.write("slack-emulator: " + (fmt % a) + "\n")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, headers, payload, ctype="application/json; charset=utf-8"):
        try:
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload or b"")))
            self.end_headers()
            if payload:
                self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def dispatch(self, method):
        try:
            url = urlsplit(self.path)
            raw = self.read_body()
            if url.path == "/_emulator" or url.path.startswith("/_emulator/"):
                self.control(method, url, raw)
            else:
                self.api(method, url, raw)
        except Exception as e:  # a bug here must not hang the client
            traceback.print_exc()
            self.send(500, {}, json.dumps({"ok": False, "error": "emulator_error",
                                           "detail": str(e)}).encode())

    def reply(self, status, obj):
        self.send(status, {}, json.dumps(obj).encode())

    def control(self, method, url, raw):
        emu = self.server.emu
        path, q = url.path, dict(parse_qsl(url.query))
        try:
            doc = json.loads(raw) if raw.strip() else None
        except ValueError as e:
            return self.reply(400, {"error": "bad JSON: %s" % e})
        try:
            if path == "/_emulator/state":
                if method == "GET":
                    with emu.lock:
                        if q.get("summary"):
                            return self.reply(200, emu.state.counts())
                        return self.reply(200, emu.state.dump())
                if method == "PUT":
                    st = State(doc)
                    with emu.lock:
                        emu.state = st
                        return self.reply(200, st.counts())
            elif path == "/_emulator/messages":
                if method == "GET":
                    with emu.lock:
                        ms = [m for m in emu.state.dump()["messages"]
                              if not q.get("channel") or m["channel"] == q["channel"]]
                    return self.reply(200, ms)
            elif path == "/_emulator/react":
                if method == "POST":
                    if not isinstance(doc, dict):
                        raise ValueError('want {"channel", "ts", "name", "user"}')
                    with emu.lock:
                        st = emu.state
                        c = st.channel(doc.get("channel"))
                        if c is None:
                            raise ValueError("unknown channel %r" % doc.get("channel"))
                        m = st.message(c["id"], doc.get("ts"))
                        if m is None:
                            raise ValueError("no message %r in %s" % (doc.get("ts"), c["id"]))
                        name = doc.get("name")
                        if not isinstance(name, str) or not name or ":" == name[0]:
                            raise ValueError("name: an emoji name without colons")
                        users = doc.get("users") or [doc.get("user")]
                        for uid in users:
                            if not isinstance(uid, str) or not USER_ID_RE.match(uid):
                                raise ValueError("user: a user id like U024BE7LH: %r" % (uid,))
                            if doc.get("remove"):
                                st.unreact(m, name, uid)
                            else:
                                st.react(m, name, uid)
                        return self.reply(200, emu.render_message(m, True))
            elif path == "/_emulator/faults":
                if method == "GET":
                    return self.reply(200, {"faults": emu.public_faults()})
                if method == "POST":
                    emu.add_faults((doc or {}).get("faults") if isinstance(doc, dict) else None)
                    return self.reply(200, {"faults": emu.public_faults()})
                if method == "DELETE":
                    with emu.lock:
                        emu.faults = []
                    return self.reply(200, {"faults": []})
            elif path == "/_emulator/log":
                if method == "GET":
                    with emu.log_lock:
                        return self.reply(200, list(emu.entries))
                if method == "DELETE":
                    emu.clear_log()
                    return self.reply(200, [])
            elif path == "/_emulator/config":
                if method == "GET":
                    return self.reply(200, dict(emu.cfg, scopes=emu.scopes))
                if method == "PUT":
                    if not isinstance(doc, dict):
                        raise ValueError("want a JSON object")
                    with emu.lock:
                        for k, v in doc.items():
                            if k == "scopes":
                                if not isinstance(v, list) or \
                                        not all(isinstance(s, str) for s in v):
                                    raise ValueError("scopes: want a list of strings")
                                emu.scopes = list(v)
                            elif k == "users_without_full":
                                if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                                    raise ValueError("%s: want a count" % k)
                                emu.cfg[k] = v
                            else:
                                raise ValueError("unknown setting %r" % k)
                        return self.reply(200, dict(emu.cfg, scopes=emu.scopes))
            else:
                return self.reply(404, {"error": "no such control endpoint"})
            return self.reply(405, {"error": "method not allowed"})
        except (ValueError, re.error, TypeError, AttributeError, KeyError) as e:
            return self.reply(400, {"error": str(e)})

    def api(self, method, url, raw):
        emu = self.server.emu
        t0 = time.time()
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {}
        for k, v in self.headers.items():
            headers[k] = headers[k] + ", " + v if k in headers else v
        path = url.path
        ctype = (headers.get("Content-Type") or "").strip()
        ctl = ctype.lower()
        text = raw.decode("utf-8", "replace") if raw else None
        body, form, kind = None, None, None
        is_hook = path.startswith(HOOKS)
        if raw and is_hook:
            kind = "hook"
            try:
                f = dict(parse_qsl(text, keep_blank_values=True)) \
                    if ctl.startswith("application/x-www-form-urlencoded") else {}
                body = json.loads(f["payload"] if "payload" in f else text)
            except ValueError:
                body = text
        elif raw:
            if ctl.startswith("application/json"):
                kind = "json"
                try:
                    body = json.loads(raw.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    body = text
            elif ctl.startswith("application/x-www-form-urlencoded"):
                kind = "form"
                form = dict(parse_qsl(text, keep_blank_values=True))
                body = form
            else:
                kind = "other"
                body = text
        info = {"auth_error": None, "token_in": None}
        api_method = None
        hdrs, status, payload = {}, 200, None
        rctype = "application/json; charset=utf-8"
        result = {}
        if path.startswith(API):
            api_method = path[len(API):]
        elif is_hook:
            api_method = "webhook"
        target = path + ("?" + url.query if url.query else "")
        fault = emu.take_fault(method, target)
        if fault:
            status = fault["status"]
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
            if fault.get("retry_after") is not None:
                hdrs["Retry-After"] = str(fault["retry_after"])
            if is_hook:
                rctype = "text/html"
                b = fault.get("body")
                if b is None:
                    b = fault.get("error") or HOOK_FAULT_TEXT.get(status, "error")
                payload = (b if isinstance(b, str) else json.dumps(b)).encode("utf-8")
                result = {"ok": status == 200, "error": None if status == 200 else
                          payload.decode("utf-8", "replace")}
            else:
                if fault.get("body") is not None:
                    obj = fault["body"]
                else:
                    obj = {"ok": False, "error": fault.get("error") or
                           FAULT_ERRORS.get(status, "internal_error")}
                    for k in ("needed", "provided"):
                        if fault.get(k):
                            obj[k] = fault[k]
                if isinstance(obj, str):
                    payload = obj.encode("utf-8")
                else:
                    payload = json.dumps(obj, separators=(",", ":")).encode("utf-8")
                    if isinstance(obj, dict):
                        result = {"ok": obj.get("ok"), "error": obj.get("error")}
        elif is_hook:
            rctype = "text/html"
            try:
                with emu.lock:
                    emu.webhook(method, path, ctl, raw)
                payload = b"ok"
                result = {"ok": True, "error": None}
            except HookError as e:
                status, payload = e.status, e.text.encode("utf-8")
                result = {"ok": False, "error": e.text}
        else:
            obj = None
            spec = METHODS.get(api_method)
            try:
                if spec is None:
                    raise SlackError("unknown_method")
                if method not in spec[0].split():
                    raise SlackError("invalid_request_method")
                emu.check_token(headers, form, q, info)
                emu.check_scope(spec[2])
                args = {k: v for k, v in q.items() if k != "token"}
                if kind == "form" and "form" in spec[1]:
                    args.update({k: v for k, v in form.items() if k != "token"})
                elif kind == "json" and "json" in spec[1]:
                    if not isinstance(body, dict):
                        raise SlackError("invalid_json")
                    if "token" in body:
                        # Slack refuses a token in a JSON body.
                        info["auth_error"] = "token in a JSON body"
                        raise SlackError("invalid_auth")
                    args.update(body)
                warnings = []
                with emu.lock:
                    if api_method == "chat.postMessage":
                        obj = emu.post_message(args, warnings)
                    elif api_method == "reactions.get":
                        obj = emu.reactions_get(args)
                    else:
                        obj = emu.users_info(args)
                if kind == "json" and "charset=" not in ctl:
                    warnings.append("missing_charset")
                if warnings:
                    obj["warning"] = ",".join(warnings)
                    obj["response_metadata"] = {"warnings": warnings}
            except SlackError as e:
                obj = {"ok": False, "error": e.code}
                obj.update(e.extra)
            result = {"ok": obj.get("ok"), "error": obj.get("error")}
            payload = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) +
                 ".%03dZ" % int((t0 % 1) * 1000), "t": t0, "method": method, "path": path,
                 "query": q, "headers": headers, "content_type": ctype or None,
                 "raw": text, "body": body, "api_method": api_method, "status": status,
                 "ok": result.get("ok"), "error": result.get("error"),
                 "response": payload.decode("utf-8", "replace") if payload else None,
                 "auth_error": info["auth_error"], "token_in": info["token_in"],
                 "fault": {k: v for k, v in fault.items() if not k.startswith("_")
                           and k != "times"} if fault else None,
                 "ms": int((time.time() - t0) * 1000)}
        emu.log(entry)
        if emu.args.verbose and info["auth_error"]:
            sys.stderr.write("slack-emulator: %s: %s\n" % (path, info["auth_error"]))
        self.send(status, hdrs, payload, rctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description="Slack Web API and incoming webhook emulator")
    ap.add_argument("--port", type=int, default=0, help="port (0: ephemeral)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--token", required=True, help="the bot token accepted (xoxb-...)")
    ap.add_argument("--seed", help="seed state JSON")
    ap.add_argument("--log", help="append one JSON line per request")
    ap.add_argument("--scopes", help="comma-separated scopes the token has "
                    "(default: %s)" % ",".join(ALL_SCOPES))
    ap.add_argument("--webhook", action="append",
                    help="another incoming webhook path (posts to the first channel)")
    ap.add_argument("--users-without-full", type=int, default=50,
                    help="reactions.get without full=true lists at most N users "
                    "per reaction (0: all)")
    ap.add_argument("--parent-pid", type=int, default=None,
                    help="exit when this process goes away")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    try:
        emu = Emulator(args)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        sys.stderr.write("slack-emulator: %s\n" % e)
        return 2
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.emu = emu
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("slack-emulator: listening on 127.0.0.1:%d (%s)\n"
                     % (port, ", ".join("%s %d" % kv for kv in emu.state.counts().items())))

    def stop(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    if args.parent_pid:
        def watch():
            while True:
                time.sleep(0.5)
                try:
                    os.kill(args.parent_pid, 0)
                except OSError:
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
