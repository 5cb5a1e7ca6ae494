#!/usr/bin/python3
"""A stateful emulator of the Databricks workspace APIs accord uses, on
127.0.0.1, for the databricks connector's end-to-end tests: workspace
SCIM 2.0 (Users, Groups, ServicePrincipals: list with startIndex/count/
filter/attributes, GET by id, PATCH group membership), Unity Catalog
permissions (GET with pagination, PATCH with changes) and listings
(catalogs, schemas, tables), personal access tokens and OAuth M2M
(POST /oidc/v1/token, client credentials with HTTP Basic).  Answers in
the wire shapes of platform-apis.md sections 5 and 10; logs every API
request as one JSON line; injects faults on demand (429 with Retry-After,
503, any status).  Every choice the public material leaves open is
listed in README.md ("databricks.py").

    databricks.py --port-file F --token dapiXXXX [--client-id ID
                  --client-secret S] --seed SEED.json --log LOG.jsonl
                  [--max-count N] [--uc-page-size N] [--uc-empty-first-page]
                  [--patch-204] [--token-ttl S] [--parent-pid PID]

Python 3 standard library only; run with /usr/bin/python3.
"""

import argparse
import base64
import binascii
import copy
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

SCIM = "/api/2.0/preview/scim/v2"
UC = "/api/2.1/unity-catalog"
TOKEN_PATH = "/oidc/v1/token"
S_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
S_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
S_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
S_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
S_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
S_SP = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"
SCIM_CAP = 100  # the documented maximum of count
UC_CAP = 1000   # the server's page length for listings without max_results
KINDS = ("catalog", "schema", "table")
DEPTH = {"catalog": 1, "schema": 2, "table": 3}
# Privileges each securable type accepts (UPPER_SNAKE, exact case).
PRIVILEGES = {
    "catalog": {"ALL_PRIVILEGES", "APPLY_TAG", "BROWSE", "CREATE_FUNCTION",
                "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL", "CREATE_SCHEMA",
                "CREATE_TABLE", "CREATE_VOLUME", "EXECUTE", "MODIFY", "READ_VOLUME",
                "REFRESH", "SELECT", "USE_CATALOG", "USE_SCHEMA", "WRITE_VOLUME"},
    "schema": {"ALL_PRIVILEGES", "APPLY_TAG", "CREATE_FUNCTION",
               "CREATE_MATERIALIZED_VIEW", "CREATE_MODEL", "CREATE_TABLE",
               "CREATE_VOLUME", "EXECUTE", "MODIFY", "READ_VOLUME", "REFRESH",
               "SELECT", "USE_SCHEMA", "WRITE_VOLUME"},
    "table": {"ALL_PRIVILEGES", "APPLY_TAG", "MODIFY", "SELECT"},
}
NOT_FOUND_CODE = {"catalog": "CATALOG_DOES_NOT_EXIST", "schema": "SCHEMA_DOES_NOT_EXIST",
                  "table": "TABLE_DOES_NOT_EXIST"}
# Attributes a filter may name, per resource type (lower case).
FILTER_ATTRS = {
    "Users": {"id", "username", "displayname", "active", "emails", "groups",
              "externalid", "entitlements", "name"},
    "Groups": {"id", "displayname", "members", "externalid", "meta", "entitlements"},
    "ServicePrincipals": {"id", "applicationid", "displayname", "active", "groups",
                          "externalid", "entitlements"},
}


class ApiError(Exception):
    """A Databricks error: {"error_code", "message"}."""

    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status, self.code, self.message = status, code, message


class ScimError(Exception):
    """An RFC 7644 error: {"schemas", "detail", "status" (a string), "scimType"?}."""

    def __init__(self, status, detail, scim_type=None):
        Exception.__init__(self, detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


# --- SCIM filters (RFC 7644 3.4.2.2, the subset Databricks documents) ---------

class FilterError(Exception):
    pass


TOKEN_RE = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<lb>\[)|(?P<rb>\])|'
                      r'(?P<str>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")|'
                      r'(?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![\w.]))|'
                      r'(?P<word>[A-Za-z$][\w$.:-]*))')


def tokenize_filter(s):
    out, i = [], 0
    while i < len(s):
        if s[i:].strip() == "":
            break
        m = TOKEN_RE.match(s, i)
        if not m:
            raise FilterError("unexpected character at position %d" % i)
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            out.append(("val", json.loads(text)))
        elif kind == "num":
            out.append(("val", json.loads(text)))
        elif kind == "word":
            lw = text.lower()
            if lw in ("true", "false", "null"):
                out.append(("val", {"true": True, "false": False, "null": None}[lw]))
            else:
                out.append(("word", text))
        else:
            out.append((kind, text))
        i = m.end()
    return out


class FilterParser:
    OPS = ("eq", "ne", "co", "sw")

    def __init__(self, text, attrs):
        self.toks = tokenize_filter(text)
        self.i = 0
        self.attrs = attrs  # allowed top-level names (lower), None: any

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        if t[0] is None:
            raise FilterError("unexpected end of filter")
        self.i += 1
        return t

    def parse(self):
        node = self.expr()
        if self.i != len(self.toks):
            raise FilterError("unexpected %r" % (self.peek()[1],))
        return node

    def expr(self):
        node = self.term()
        while self.peek()[0] == "word" and self.peek()[1].lower() == "or":
            self.take()
            node = ("or", node, self.term())
        return node

    def term(self):
        node = self.factor()
        while self.peek()[0] == "word" and self.peek()[1].lower() == "and":
            self.take()
            node = ("and", node, self.factor())
        return node

    def factor(self):
        k, v = self.take()
        if k == "lp":
            node = self.expr()
            if self.take()[0] != "rp":
                raise FilterError("missing )")
            return node
        if k != "word" or v.lower() in ("and", "or", "not"):
            raise FilterError("expected an attribute, got %r" % (v,))
        path = v.lower().split(".")
        if path[0].startswith("urn:"):
            raise FilterError("schema URNs are not supported in filters")
        if self.attrs is not None and path[0] not in self.attrs:
            raise FilterError("unknown attribute %r" % v)
        if self.peek()[0] == "lb":
            self.take()
            sub = FilterParser.__new__(FilterParser)
            sub.toks, sub.i, sub.attrs = self.toks, self.i, None
            inner = sub.expr()
            self.i = sub.i
            if self.take()[0] != "rb":
                raise FilterError("missing ]")
            return ("value", path, inner)
        k2, op = self.take()
        if k2 != "word" or op.lower() not in self.OPS:
            raise FilterError("unsupported operator %r (eq, ne, co, sw)" % (op,))
        k3, val = self.take()
        if k3 != "val":
            raise FilterError("expected a value after %s" % op)
        return ("cmp", path, op.lower(), val)


def ci_get(obj, name):
    if not isinstance(obj, dict):
        return None
    for k, v in obj.items():
        if k.lower() == name:
            return v
    return None


def values_at(obj, path):
    """Every value at path (lower-case parts) in obj, flattening lists."""
    cur = [obj]
    for part in path:
        nxt = []
        for c in cur:
            v = ci_get(c, part)
            if isinstance(v, list):
                nxt.extend(v)
            elif v is not None:
                nxt.append(v)
        cur = nxt
    # A complex value compared as a whole means its "value" sub-attribute.
    out = []
    for c in cur:
        if isinstance(c, dict):
            if "value" in c:
                out.append(c["value"])
        else:
            out.append(c)
    return out


def compare(op, have, want, exact):
    if isinstance(have, str) and isinstance(want, str):
        h, w = (have, want) if exact else (have.lower(), want.lower())
        if op == "eq":
            return h == w
        if op == "ne":
            return h != w
        if op == "co":
            return w in h
        if op == "sw":
            return h.startswith(w)
    if op in ("co", "sw"):
        return False
    same = have == want and type(have) is type(want)
    return same if op == "eq" else not same


def evaluate(node, obj):
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], obj) and evaluate(node[2], obj)
    if kind == "or":
        return evaluate(node[1], obj) or evaluate(node[2], obj)
    if kind == "value":
        cur = [obj]
        for part in node[1]:
            nxt = []
            for c in cur:
                v = ci_get(c, part)
                nxt.extend(v if isinstance(v, list) else ([v] if v is not None else []))
            cur = nxt
        return any(evaluate(node[2], it) for it in cur if isinstance(it, dict))
    _, path, op, want = node
    # Identifiers compare exactly; names and addresses case-insensitively
    # (caseExact false in RFC 7643 for userName, displayName, emails).
    exact = path[-1] in ("id", "value", "$ref", "applicationid") and path[0] != "emails"
    vals = values_at(obj, path)
    if op == "ne":
        return all(compare("ne", v, want, exact) for v in vals) if vals else want is not None
    if want is None and op == "eq":
        return not vals
    return any(compare(op, v, want, exact) for v in vals)


def parse_filter(text, resource):
    try:
        return FilterParser(text, FILTER_ATTRS.get(resource)).parse()
    except (FilterError, ValueError) as e:
        raise ScimError(400, "Invalid filter '%s': %s" % (text, e), "invalidFilter")


# --- state ----------------------------------------------------------------------

class State:
    """Users, service principals, groups (members as (kind, id)), securables
    and UC grants.  Names are stored as written; securable names compare
    case-insensitively."""

    def __init__(self, seed):
        self.next_id = 1000000000000001
        self.users, self.sps, self.groups = [], [], []
        self.securables = {}   # (type, lower full name) -> {"type", "full_name"}
        self.grants = {}       # (type, lower full name) -> {principal: set}
        self.load(seed or {})

    def new_id(self, used):
        while str(self.next_id) in used:
            self.next_id += 1
        self.next_id += 1
        return str(self.next_id - 1)

    def load(self, seed):
        if not isinstance(seed, dict):
            raise ValueError("the state must be a JSON object")
        unknown = set(seed) - {"users", "service_principals", "groups", "securables", "grants"}
        if unknown:
            raise ValueError("unknown state keys: %s" % ", ".join(sorted(unknown)))
        used = set()
        unames = set()
        for key in ("users", "service_principals", "groups"):
            for x in seed.get(key) or []:
                if isinstance(x, dict) and x.get("id") is not None:
                    i = str(x["id"])
                    if i in used:
                        raise ValueError("duplicate id %s" % i)
                    used.add(i)
        for u in seed.get("users") or []:
            if not isinstance(u, dict) or not isinstance(u.get("userName"), str) or not u["userName"]:
                raise ValueError("a user needs a userName: %r" % (u,))
            if u["userName"].lower() in unames:
                raise ValueError("duplicate userName %r" % u["userName"])
            unames.add(u["userName"].lower())
            emails = u.get("emails")
            if emails is None:
                emails = [{"value": u["userName"], "type": "work", "primary": True}] \
                    if "@" in u["userName"] else []
            elif isinstance(emails, list):
                emails = [e if isinstance(e, dict) else
                          {"value": e, "type": "work", "primary": i == 0}
                          for i, e in enumerate(emails)]
            else:
                raise ValueError("emails must be a list")
            uid = str(u["id"]) if u.get("id") is not None else self.new_id(used)
            used.add(uid)
            self.users.append({"id": uid, "userName": u["userName"],
                               "displayName": u.get("displayName", u["userName"]),
                               "active": bool(u.get("active", True)), "emails": emails})
        for s in seed.get("service_principals") or []:
            if not isinstance(s, dict) or not isinstance(s.get("applicationId"), str):
                raise ValueError("a service principal needs an applicationId: %r" % (s,))
            if any(x["applicationId"] == s["applicationId"] for x in self.sps):
                raise ValueError("duplicate applicationId %r" % s["applicationId"])
            sid = str(s["id"]) if s.get("id") is not None else self.new_id(used)
            used.add(sid)
            self.sps.append({"id": sid, "applicationId": s["applicationId"],
                             "displayName": s.get("displayName", s["applicationId"]),
                             "active": bool(s.get("active", True))})
        gseed = seed.get("groups") or []
        for g in gseed:
            if not isinstance(g, dict) or not isinstance(g.get("displayName"), str):
                raise ValueError("a group needs a displayName: %r" % (g,))
            if any(x["displayName"] == g["displayName"] for x in self.groups):
                raise ValueError("duplicate group %r" % g["displayName"])
            gid = str(g["id"]) if g.get("id") is not None else self.new_id(used)
            used.add(gid)
            self.groups.append({"id": gid, "displayName": g["displayName"], "members": []})
        self.index()
        for g, grp in zip(gseed, self.groups):
            have = set()
            for m in g.get("members") or []:
                ref = self.principal_ref(m)
                if ref is None:
                    raise ValueError("group %r: unknown member %r" % (g["displayName"], m))
                if ref not in have:
                    have.add(ref)
                    grp["members"].append(ref)
        for s in seed.get("securables") or []:
            if not isinstance(s, dict):
                raise ValueError("a securable must be an object")
            self.add_securable(s.get("type"), s.get("full_name"))
        for gr in seed.get("grants") or []:
            if not isinstance(gr, dict):
                raise ValueError("a grant must be an object")
            st, fn = gr.get("securable_type"), gr.get("full_name")
            self.add_securable(st, fn)
            st = st.lower()
            p = gr.get("principal")
            if not self.principal_exists(p):
                raise ValueError("grant: unknown principal %r" % (p,))
            privs = gr.get("privileges") or []
            for pv in privs:
                if pv not in PRIVILEGES[st]:
                    raise ValueError("grant: privilege %r not valid on a %s" % (pv, st))
            self.grants.setdefault((st, fn.lower()), {}).setdefault(p, set()).update(privs)

    def index(self):
        """Lookups by id and userName.  Users, service principals and
        groups are only added by load; a PATCH edits a group in place."""
        self.ids = {k: {x["id"]: x for x in self.coll(k)}
                    for k in ("Users", "Groups", "ServicePrincipals")}
        self.user_names = {x["userName"]: x for x in self.users}
        self.sp_apps = {x["applicationId"]: x for x in self.sps}

    def member_of(self):
        """{(kind, id): [group, ...]} for every member of a group."""
        out = {}
        for g in self.groups:
            for ref in g["members"]:
                out.setdefault(ref, []).append(g)
        return out

    def add_securable(self, st, fn):
        if not isinstance(st, str) or st.lower() not in KINDS:
            raise ValueError("securable type must be catalog, schema or table: %r" % (st,))
        if not isinstance(fn, str):
            raise ValueError("securable full_name must be a string")
        st = st.lower()
        parts = fn.split(".")
        if len(parts) != DEPTH[st] or not all(parts):
            raise ValueError("a %s's full_name has %d dotted parts: %r" % (st, DEPTH[st], fn))
        for k in KINDS[:DEPTH[st]]:
            name = ".".join(parts[:DEPTH[k]])
            self.securables.setdefault((k, name.lower()), {"type": k, "full_name": name})

    # principals -------------------------------------------------------------
    def principal_ref(self, spec):
        """'userName' | 'group:NAME' | 'service:APPID' -> (kind, id) or None."""
        if not isinstance(spec, str):
            return None
        if spec.startswith("group:"):
            g = self.group_by_name(spec[6:])
            return ("Groups", g["id"]) if g else None
        if spec.startswith("service:"):
            s = self.sp_apps.get(spec[8:])
            return ("ServicePrincipals", s["id"]) if s else None
        u = self.user_names.get(spec)
        return ("Users", u["id"]) if u else None

    def ref_spec(self, ref):
        kind, rid = ref
        o = self.by_id(kind, rid)
        if kind == "Groups":
            return "group:" + o["displayName"]
        if kind == "ServicePrincipals":
            return "service:" + o["applicationId"]
        return o["userName"]

    def group_by_name(self, name):
        return next((g for g in self.groups if g["displayName"] == name), None)

    def coll(self, kind):
        return {"Users": self.users, "Groups": self.groups, "ServicePrincipals": self.sps}[kind]

    def by_id(self, kind, rid):
        return self.ids[kind].get(rid)

    def any_by_id(self, rid):
        for kind in ("Users", "Groups", "ServicePrincipals"):
            o = self.by_id(kind, rid)
            if o is not None:
                return kind, o
        return None, None

    def principal_exists(self, p):
        """UC principals: user userName, group displayName, SP applicationId."""
        if not isinstance(p, str):
            return False
        return p in self.user_names or p in self.sp_apps or \
            any(g["displayName"] == p for g in self.groups)

    def dump(self):
        grants = []
        for (st, _), sec in sorted(self.securables.items()):
            for p, privs in sorted(self.grants.get((st, sec["full_name"].lower()), {}).items()):
                if privs:
                    grants.append({"securable_type": st, "full_name": sec["full_name"],
                                   "principal": p, "privileges": sorted(privs)})
        return {"users": copy.deepcopy(self.users),
                "service_principals": copy.deepcopy(self.sps),
                "groups": [{"id": g["id"], "displayName": g["displayName"],
                            "members": [self.ref_spec(m) for m in g["members"]]}
                           for g in self.groups],
                "securables": [dict(v) for _, v in sorted(self.securables.items())],
                "grants": grants}

    def counts(self):
        return {"users": len(self.users), "service_principals": len(self.sps),
                "groups": len(self.groups), "securables": len(self.securables),
                "grants": sum(1 for d in self.grants.values() for v in d.values() if v)}


# --- the emulator ------------------------------------------------------------------

def b64tok(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, sort_keys=True).encode()).decode().rstrip("=")


def untok(s):
    try:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


class Emulator:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        self.args = args
        self.cfg = {"max_count": args.max_count, "uc_page_size": args.uc_page_size,
                    "uc_empty_first_page": args.uc_empty_first_page,
                    "patch_204": args.patch_204, "token_ttl": args.token_ttl,
                    "uc_list_page_size": args.uc_list_page_size}
        seed = {}
        if args.seed:
            with open(args.seed, encoding="utf-8") as f:
                seed = json.load(f)
        self.state = State(seed)
        self.tokens = {}   # issued OAuth token -> expiry (epoch)
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
            unknown = set(f) - {"method", "path", "status", "body", "retry_after", "times",
                                "delay_ms"}
            if unknown:
                raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
            g = dict(f)
            g["_re"] = re.compile(f["path"]) if f.get("path") is not None else None
            st = f.get("status")
            if not isinstance(st, int) or isinstance(st, bool) or not 100 <= st <= 599:
                raise ValueError("status must be an HTTP status: %r" % (st,))
            times = f.get("times", 1)
            if not isinstance(times, int) or times < 1:
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
    def check_bearer(self, headers, info):
        auth = headers.get("Authorization")
        if not auth:
            info["auth_error"] = "no Authorization header"
            raise ApiError(401, "UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.")
        m = re.match(r"Bearer ([^\s]+)\Z", auth)
        if not m:
            info["auth_error"] = "Authorization is not 'Bearer <token>'"
            raise ApiError(401, "UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.")
        tok = m.group(1)
        if self.args.token is not None and secrets.compare_digest(tok, self.args.token):
            info["token_kind"] = "pat"
            return
        with self.lock:
            exp = self.tokens.get(tok)
        if exp is not None:
            if exp <= time.time():
                info["auth_error"] = "OAuth token expired"
                info["token_kind"] = "oauth"
                raise ApiError(401, "UNAUTHENTICATED", "Token expired.")
            info["token_kind"] = "oauth"
            return
        info["auth_error"] = "unknown bearer token"
        raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")

    def issue_token(self, headers, form, info):
        """POST /oidc/v1/token -> (status, body)."""
        def refuse(status, err, desc):
            info["auth_error"] = desc
            return status, {"error": err, "error_description": desc}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return refuse(400, "invalid_request",
                          "Content-Type must be application/x-www-form-urlencoded")
        if self.args.client_id is None:
            return refuse(401, "invalid_client", "Client authentication failed")
        auth = headers.get("Authorization") or ""
        m = re.match(r"Basic ([A-Za-z0-9+/=]+)\Z", auth)
        if not m:
            return refuse(401, "invalid_client",
                          "Client authentication failed: send HTTP Basic client_id:client_secret")
        try:
            cid, _, csec = base64.b64decode(m.group(1), validate=True).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return refuse(401, "invalid_client", "Client authentication failed")
        info["client_id"] = cid
        ok_id = cid == self.args.client_id or unquote_plus(cid) == self.args.client_id
        ok_sec = secrets.compare_digest(csec, self.args.client_secret) or \
            secrets.compare_digest(unquote_plus(csec), self.args.client_secret)
        if not (ok_id and ok_sec):
            return refuse(401, "invalid_client", "Client authentication failed")
        if form.get("grant_type") != "client_credentials":
            return refuse(400, "unsupported_grant_type",
                          "grant_type must be client_credentials")
        if "all-apis" not in (form.get("scope") or "").split():
            return refuse(400, "invalid_scope", "scope must include all-apis")
        tok = "dbo." + secrets.token_urlsafe(36)
        ttl = int(self.cfg["token_ttl"])
        with self.lock:
            self.tokens[tok] = time.time() + ttl
        return 200, {"access_token": tok, "token_type": "Bearer", "expires_in": ttl,
                     "scope": "all-apis"}

    # --- SCIM ---
    def render(self, kind, o, member_of=None):
        st = self.state
        if kind == "Users" or kind == "ServicePrincipals":
            if kind == "Users":
                r = {"schemas": [S_USER], "id": o["id"], "userName": o["userName"],
                     "displayName": o["displayName"], "active": o["active"]}
                if o["emails"]:
                    r["emails"] = copy.deepcopy(o["emails"])
            else:
                r = {"schemas": [S_SP], "id": o["id"], "applicationId": o["applicationId"],
                     "displayName": o["displayName"], "active": o["active"]}
            if member_of is None:
                member_of = st.member_of()
            groups = [{"value": g["id"], "display": g["displayName"], "type": "direct",
                       "$ref": "Groups/" + g["id"]}
                      for g in member_of.get((kind, o["id"]), [])]
            if groups:
                r["groups"] = groups
            return r
        r = {"schemas": [S_GROUP], "id": o["id"], "displayName": o["displayName"]}
        members = []
        for mk, mid in o["members"]:
            m = st.by_id(mk, mid)
            if m is None:
                continue
            members.append({"value": mid, "display": m["displayName"],
                            "$ref": "%s/%s" % (mk, mid)})
        if members:
            r["members"] = members
        r["meta"] = {"resourceType": "WorkspaceGroup"}
        return r

    @staticmethod
    def project(r, q):
        attrs = q.get("attributes")
        excl = q.get("excludedAttributes")
        if attrs:
            want = [a.strip().lower() for a in attrs.split(",") if a.strip()]
            out = {}
            for k, v in r.items():
                lk = k.lower()
                if lk in ("id", "schemas") or lk in want:
                    out[k] = v
                    continue
                subs = [a.split(".", 1)[1] for a in want if a.split(".", 1)[0] == lk and "." in a]
                if subs:
                    if isinstance(v, list):
                        out[k] = [{kk: vv for kk, vv in it.items() if kk.lower() in subs}
                                  for it in v if isinstance(it, dict)]
                    elif isinstance(v, dict):
                        out[k] = {kk: vv for kk, vv in v.items() if kk.lower() in subs}
            return out
        if excl:
            drop = {a.strip().lower() for a in excl.split(",") if a.strip()}
            return {k: v for k, v in r.items() if k.lower() in ("id", "schemas")
                    or k.lower() not in drop}
        return r

    def scim_list(self, kind, q):
        flt = q.get("filter")
        node = parse_filter(flt, kind) if flt is not None and flt.strip() else None
        try:
            start = int(q.get("startIndex", "1"))
            cap = min(SCIM_CAP, self.cfg["max_count"] or SCIM_CAP)
            count = int(q["count"]) if "count" in q else cap
        except ValueError:
            raise ScimError(400, "startIndex and count must be integers", "invalidValue")
        start = max(start, 1)
        count = max(0, min(count, cap))
        with self.lock:
            mo = self.state.member_of() if kind != "Groups" else None
            objs = self.state.coll(kind)
            if node is None:
                total = len(objs)
                page = [self.render(kind, o, mo) for o in objs[start - 1:start - 1 + count]]
            else:
                rows = [self.render(kind, o, mo) for o in objs]
                rows = [r for r in rows if evaluate(node, r)]
                total = len(rows)
                page = rows[start - 1:start - 1 + count]
        out = {"schemas": [S_LIST], "totalResults": total, "startIndex": start,
               "itemsPerPage": len(page)}
        if page:
            out["Resources"] = [self.project(r, q) for r in page]
        return 200, out

    def scim_get(self, kind, rid, q):
        with self.lock:
            o = self.state.by_id(kind, rid)
            if o is None:
                raise ScimError(404, "%s with id %s not found." % (
                    {"Users": "User", "Groups": "Group",
                     "ServicePrincipals": "ServicePrincipal"}[kind], rid))
            return 200, self.project(self.render(kind, o), q)

    def scim_patch_group(self, gid, body):
        if not isinstance(body, dict):
            raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
        if S_PATCH not in (body.get("schemas") or []):
            raise ScimError(400, "schemas must contain %s" % S_PATCH, "invalidSyntax")
        ops = body.get("Operations")
        if not isinstance(ops, list) or not ops:
            raise ScimError(400, "Operations must be a non-empty list.", "invalidSyntax")
        with self.lock:
            st = self.state
            g = st.by_id("Groups", gid)
            if g is None:
                raise ScimError(404, "Group with id %s not found." % gid)
            members = list(g["members"])
            name = g["displayName"]

            def resolve(v):
                if not isinstance(v, dict) or not isinstance(v.get("value"), str):
                    raise ScimError(400, "A member must be {\"value\": \"<id>\"}: %s"
                                    % json.dumps(v), "invalidValue")
                kind, o = st.any_by_id(v["value"])
                if o is None:
                    raise ScimError(400, "Member with id %s not found." % v["value"],
                                    "invalidValue")
                if kind == "Groups" and o["id"] == gid:
                    raise ScimError(400, "A group cannot be a member of itself.",
                                    "invalidValue")
                return (kind, o["id"])

            def member_values(v):
                if not isinstance(v, list):
                    raise ScimError(400, "members value must be a list.", "invalidValue")
                return [resolve(x) for x in v]

            for op in ops:
                if not isinstance(op, dict) or not isinstance(op.get("op"), str):
                    raise ScimError(400, "Each operation needs an op.", "invalidSyntax")
                verb = op["op"].lower()
                path = op.get("path")
                value = op.get("value")
                if verb not in ("add", "remove", "replace"):
                    raise ScimError(400, "Unknown op %r." % op["op"], "invalidSyntax")
                if path is not None and not isinstance(path, str):
                    raise ScimError(400, "path must be a string.", "invalidPath")
                lpath = path.strip().lower() if path else None
                if verb in ("add", "replace") and path is None:
                    if not isinstance(value, dict):
                        raise ScimError(400, "Without a path, value must be an object.",
                                        "invalidValue")
                    for k, v in value.items():
                        if k.lower() == "members":
                            new = member_values(v)
                            if verb == "replace":
                                members = []
                            for ref in new:
                                if ref not in members:
                                    members.append(ref)
                        elif k.lower() == "displayname" and isinstance(v, str) and v:
                            name = v
                        else:
                            raise ScimError(400, "Unsupported attribute %r." % k, "invalidPath")
                    continue
                if verb == "remove" and path is None:
                    raise ScimError(400, "remove needs a path.", "noTarget")
                if lpath == "members":
                    if verb == "add":
                        for ref in member_values(value):
                            if ref not in members:
                                members.append(ref)
                    elif verb == "replace":
                        members = []
                        for ref in member_values(value):
                            if ref not in members:
                                members.append(ref)
                    else:
                        if value is not None:
                            drop = {x.get("value") for x in value if isinstance(x, dict)} \
                                if isinstance(value, list) else None
                            if drop is None:
                                raise ScimError(400, "members value must be a list.",
                                                "invalidValue")
                            members = [m for m in members if m[1] not in drop]
                        else:
                            members = []
                    continue
                if lpath == "displayname" and verb in ("add", "replace"):
                    if not isinstance(value, str) or not value:
                        raise ScimError(400, "displayName must be a string.", "invalidValue")
                    name = value
                    continue
                m = re.fullmatch(r"\s*members\s*\[(.*)\]\s*", path or "", re.I | re.S)
                if m and verb == "remove":
                    try:
                        node = FilterParser(m.group(1), {"value", "display", "$ref", "type"}).parse()
                    except (FilterError, ValueError) as e:
                        raise ScimError(400, "Invalid path %r: %s" % (path, e), "invalidPath")
                    keep = []
                    for mk, mid in members:
                        o = st.by_id(mk, mid)
                        item = {"value": mid, "display": o["displayName"] if o else None,
                                "$ref": "%s/%s" % (mk, mid)}
                        if not evaluate(node, item):
                            keep.append((mk, mid))
                    members = keep
                    continue
                raise ScimError(400, "Unsupported path %r for op %s." % (path, verb),
                                "invalidPath")
            if name != g["displayName"] and st.group_by_name(name) is not None:
                raise ScimError(409, "Group with name %s already exists." % name, "uniqueness")
            g["members"] = members
            g["displayName"] = name
            if self.cfg["patch_204"]:
                return 204, None
            return 200, self.render("Groups", g)

    # --- Unity Catalog ---
    def securable(self, stype, full_name):
        st = stype.lower()
        if st not in KINDS:
            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                           "Unsupported securable type: %s" % stype)
        sec = self.state.securables.get((st, full_name.lower()))
        if sec is None:
            raise ApiError(404, NOT_FOUND_CODE[st], "%s '%s' does not exist." % (
                st.capitalize(), full_name))
        return st, sec

    def assignments(self, st, sec, principal=None):
        d = self.state.grants.get((st, sec["full_name"].lower()), {})
        return [{"principal": p, "privileges": sorted(v)} for p, v in sorted(d.items())
                if v and (principal is None or p == principal)]

    @staticmethod
    def int_param(q, name):
        if name not in q:
            return None
        try:
            v = int(q[name])
        except ValueError:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "%s must be an integer" % name)
        if v < 0:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "%s must not be negative" % name)
        return v

    def paginate(self, rows, q, what, server_size, scope, empty_first=False):
        """rows, next_page_token (or None) for one page."""
        mr = self.int_param(q, "max_results")
        sizes = [s for s in (mr, server_size) if s]
        size = min(sizes) if sizes else None
        if mr == 0 and not server_size:
            size = UC_CAP
        tok = q.get("page_token")
        off = 0
        if tok:
            t = untok(tok)
            if not isinstance(t, dict) or t.get("w") != what or t.get("s") != scope or \
                    not isinstance(t.get("o"), int) or t["o"] < 0:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "Invalid page_token: %s" % tok)
            off = t["o"]
        elif empty_first:
            return [], b64tok({"w": what, "s": scope, "o": 0, "e": 1})
        if size is None:
            return rows[off:], None
        page = rows[off:off + size]
        nxt = off + size
        return page, (b64tok({"w": what, "s": scope, "o": nxt}) if nxt < len(rows) else None)

    def uc_get_permissions(self, stype, full_name, q):
        with self.lock:
            st, sec = self.securable(stype, full_name)
            rows = self.assignments(st, sec, q.get("principal"))
        page, nxt = self.paginate(rows, q, "perm", self.cfg["uc_page_size"],
                                  st + ":" + sec["full_name"].lower() + ":" +
                                  (q.get("principal") or ""),
                                  self.cfg["uc_empty_first_page"])
        out = {}
        if page:
            out["privilege_assignments"] = page
        if nxt:
            out["next_page_token"] = nxt
        return 200, out

    def uc_patch_permissions(self, stype, full_name, body):
        if not isinstance(body, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
        changes = body.get("changes")
        if changes is None:
            changes = []
        if not isinstance(changes, list):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "changes must be a list")
        with self.lock:
            st, sec = self.securable(stype, full_name)
            for c in changes:
                if not isinstance(c, dict) or not isinstance(c.get("principal"), str) or \
                        not c["principal"]:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                   "Each change needs a principal.")
                if not self.state.principal_exists(c["principal"]):
                    raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                   "Could not find principal with name %s." % c["principal"])
                for k in ("add", "remove"):
                    v = c.get(k, [])
                    if v is None:
                        v = []
                    if not isinstance(v, list):
                        raise ApiError(400, "INVALID_PARAMETER_VALUE", "%s must be a list" % k)
                    for p in v:
                        if not isinstance(p, str) or p not in PRIVILEGES[st]:
                            raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                           "Privilege %s is not applicable to this entity "
                                           "[%s:%s]." % (p, sec["full_name"], st.upper()))
                unknown = set(c) - {"principal", "add", "remove"}
                if unknown:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                   "Unknown fields in change: %s" % ", ".join(sorted(unknown)))
            d = self.state.grants.setdefault((st, sec["full_name"].lower()), {})
            for c in changes:
                cur = d.setdefault(c["principal"], set())
                cur.update(c.get("add") or [])
                cur.difference_update(c.get("remove") or [])
                if not cur:
                    del d[c["principal"]]
            out = {}
            if not body.get("omit_permissions_in_response"):
                rows = self.assignments(st, sec)
                if rows:
                    out["privilege_assignments"] = rows
            return 200, out

    def uc_list(self, what, q):
        with self.lock:
            secs = sorted((v for v in self.state.securables.values() if v["type"] == what),
                          key=lambda v: v["full_name"].lower())
            if what == "catalog":
                rows = [{"name": s["full_name"], "full_name": s["full_name"],
                         "catalog_type": "MANAGED_CATALOG", "owner": "admins"}
                        for s in secs]
                scope = ""
            elif what == "schema":
                cat = q.get("catalog_name")
                if not cat:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE", "catalog_name is required")
                self.securable("catalog", cat)
                rows = []
                for s in secs:
                    c, n = s["full_name"].split(".")
                    if c.lower() == cat.lower():
                        rows.append({"name": n, "catalog_name": c, "full_name": s["full_name"],
                                     "owner": "admins"})
                scope = cat.lower()
            else:
                cat, sch = q.get("catalog_name"), q.get("schema_name")
                if not cat or not sch:
                    raise ApiError(400, "INVALID_PARAMETER_VALUE",
                                   "catalog_name and schema_name are required")
                self.securable("catalog", cat)
                self.securable("schema", cat + "." + sch)
                rows = []
                for s in secs:
                    c, sc, n = s["full_name"].split(".")
                    if c.lower() == cat.lower() and sc.lower() == sch.lower():
                        rows.append({"name": n, "catalog_name": c, "schema_name": sc,
                                     "full_name": s["full_name"], "table_type": "MANAGED",
                                     "data_source_format": "DELTA", "owner": "admins"})
                scope = cat.lower() + "." + sch.lower()
        page, nxt = self.paginate(rows, q, what, self.cfg["uc_list_page_size"], scope)
        key = {"catalog": "catalogs", "schema": "schemas", "table": "tables"}[what]
        out = {}
        if page:
            out[key] = page
        if nxt:
            out["next_page_token"] = nxt
        return 200, out


# --- HTTP -----------------------------------------------------------------------------

DEFAULT_FAULT = {429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait and retry."),
                 503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable."),
                 500: ("INTERNAL_ERROR", "Internal error."),
                 403: ("PERMISSION_DENIED", "You do not have permission for this request."),
                 401: ("UNAUTHENTICATED", "Invalid access token."),
                 404: ("NOT_FOUND", "Not found.")}


def scim_body(e):
    b = {"schemas": [S_ERROR], "detail": e.detail, "status": str(e.status)}
    if e.scim_type:
        b["scimType"] = e.scim_type
    return b


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "databricks-emulator/1"
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        if self.server.emu.args.verbose:
            sys.stderr.write("databricks-emulator: " + (fmt % a) + "\n")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

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

    def send(self, status, headers, payload, ctype="application/json"):
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
            self.send(500, {}, json.dumps({"error_code": "INTERNAL_ERROR",
                                           "message": "emulator error: %s" % e}).encode())

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
                    return self.reply(200, emu.cfg)
                if method == "PUT":
                    if not isinstance(doc, dict):
                        raise ValueError("want a JSON object")
                    with emu.lock:
                        for k, v in doc.items():
                            if k not in emu.cfg:
                                raise ValueError("unknown setting %r" % k)
                            want = bool if isinstance(emu.cfg[k], bool) else int
                            if type(v) is not want:
                                raise ValueError("%s: want %s" % (k, want.__name__))
                            if want is int and v < 0:
                                raise ValueError("%s: must not be negative" % k)
                        emu.cfg.update(doc)
                        return self.reply(200, emu.cfg)
            elif path == "/_emulator/tokens":
                if method == "GET":
                    with emu.lock:
                        now = time.time()
                        return self.reply(200, {"issued": len(emu.tokens),
                                                "live": sum(1 for e in emu.tokens.values()
                                                            if e > now)})
                if method == "DELETE":
                    with emu.lock:
                        emu.tokens = {}
                    return self.reply(200, {"issued": 0, "live": 0})
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
        body = None
        form = None
        if raw:
            if path == TOKEN_PATH:
                body = raw.decode("utf-8", "replace")
                form = dict(parse_qsl(body, keep_blank_values=True))
            else:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
        is_scim = path.startswith(SCIM + "/") or path == SCIM
        info = {"auth_error": None, "token_kind": None}
        target = path + ("?" + url.query if url.query else "")
        fault = emu.take_fault(method, target)
        hdrs = {}
        ctype = "application/json"
        if fault:
            status = fault["status"]
            if fault.get("body") is not None:
                obj = fault["body"]
            elif is_scim:
                obj = scim_body(ScimError(status, DEFAULT_FAULT.get(status, ("", "Error"))[1]))
            else:
                code, msg = DEFAULT_FAULT.get(status, ("UNKNOWN", "Error %d" % status))
                obj = {"error_code": code, "message": msg}
            if fault.get("retry_after") is not None:
                hdrs["Retry-After"] = str(fault["retry_after"])
            if fault.get("delay_ms"):
                time.sleep(fault["delay_ms"] / 1000.0)
        else:
            try:
                if path == TOKEN_PATH:
                    if method != "POST":
                        raise ApiError(405, "METHOD_NOT_ALLOWED", "Use POST.")
                    status, obj = emu.issue_token(headers, form or {}, info)
                else:
                    emu.check_bearer(headers, info)
                    status, obj = self.route(method, path, q, body)
            except ApiError as e:
                status, obj = e.status, {"error_code": e.code, "message": e.message}
            except ScimError as e:
                status, obj = e.status, scim_body(e)
            if is_scim and status != 204 and obj is not None and "error_code" not in obj:
                ctype = "application/scim+json"
        payload = None if obj is None else \
            json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) +
                 ".%03dZ" % int((t0 % 1) * 1000), "t": t0, "method": method, "path": path,
                 "query": q, "headers": headers, "body": body, "status": status,
                 "auth_error": info["auth_error"], "token_kind": info["token_kind"],
                 "client_id": info.get("client_id"),
                 "fault": {k: v for k, v in fault.items() if not k.startswith("_")
                           and k != "times"} if fault else None,
                 "ms": int((time.time() - t0) * 1000)}
        emu.log(entry)
        if emu.args.verbose and info["auth_error"]:
            sys.stderr.write("databricks-emulator: %d: %s\n" % (status, info["auth_error"]))
        self.send(status, hdrs, payload, ctype)

    def route(self, method, path, q, body):
        emu = self.server.emu
        if path.startswith(SCIM + "/"):
            parts = path[len(SCIM) + 1:].split("/")
            kind = parts[0]
            if kind in ("Users", "Groups", "ServicePrincipals") and len(parts) <= 2:
                if len(parts) == 1:
                    if method != "GET":
                        raise ScimError(405, "Method %s is not supported here." % method)
                    return emu.scim_list(kind, q)
                rid = unquote(parts[1])
                if method == "GET":
                    return emu.scim_get(kind, rid, q)
                if method == "PATCH" and kind == "Groups":
                    return emu.scim_patch_group(rid, body)
                raise ScimError(405, "Method %s is not supported here." % method)
            raise ScimError(404, "No SCIM resource at %s." % path)
        if path.startswith(UC + "/permissions/"):
            rest = path[len(UC + "/permissions/"):]
            stype, _, fname = rest.partition("/")
            fname = unquote(fname)
            if not stype or not fname or "/" in fname:
                raise ApiError(404, "ENDPOINT_NOT_FOUND", "No API found for '%s %s'"
                               % (method, path))
            if method == "GET":
                return emu.uc_get_permissions(unquote(stype), fname, q)
            if method == "PATCH":
                if not isinstance(body, dict):
                    raise ApiError(400, "MALFORMED_REQUEST", "Could not parse the request body.")
                return emu.uc_patch_permissions(unquote(stype), fname, body)
            raise ApiError(405, "METHOD_NOT_ALLOWED", "Method %s is not allowed." % method)
        listing = {UC + "/catalogs": "catalog", UC + "/schemas": "schema",
                   UC + "/tables": "table"}.get(path)
        if listing and method == "GET":
            return emu.uc_list(listing, q)
        raise ApiError(404, "ENDPOINT_NOT_FOUND", "No API found for '%s %s'" % (method, path))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description="Databricks workspace API emulator")
    ap.add_argument("--port", type=int, default=0, help="port (0: ephemeral)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--token", help="the personal access token accepted as bearer")
    ap.add_argument("--client-id", help="OAuth M2M client id")
    ap.add_argument("--client-secret", help="OAuth M2M client secret")
    ap.add_argument("--token-ttl", type=int, default=3600, help="OAuth token life (s)")
    ap.add_argument("--seed", help="seed state JSON")
    ap.add_argument("--log", help="append one JSON line per API request")
    ap.add_argument("--max-count", type=int, default=0,
                    help="SCIM page cap below 100 (0: 100)")
    ap.add_argument("--uc-page-size", type=int, default=0,
                    help="UC privilege assignments per page (0: as the client asks)")
    ap.add_argument("--uc-empty-first-page", action="store_true",
                    help="the first UC permissions page is empty with a next_page_token")
    ap.add_argument("--uc-list-page-size", type=int, default=0,
                    help="catalogs/schemas/tables per page (0: as the client asks)")
    ap.add_argument("--patch-204", action="store_true", help="SCIM PATCH answers 204")
    ap.add_argument("--parent-pid", type=int, default=None,
                    help="exit when this process goes away")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    if args.token is None and args.client_id is None:
        ap.error("give --token and/or --client-id with --client-secret")
    if (args.client_id is None) != (args.client_secret is None):
        ap.error("--client-id and --client-secret go together")
    try:
        emu = Emulator(args)
    except (OSError, ValueError) as e:
        sys.stderr.write("databricks-emulator: %s\n" % e)
        return 2
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.emu = emu
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("databricks-emulator: listening on 127.0.0.1:%d (%s)\n"
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
