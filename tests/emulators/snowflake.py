#!/usr/bin/python3
"""A stateful emulator of the Snowflake SQL API v2 on 127.0.0.1, for the
Snowflake connector's end-to-end tests and the ingest benchmark.  It keeps
users, roles, role grants and object privileges; runs a small SQL subset
(SHOW USERS/ROLES/GRANTS, GRANT/REVOKE) against them; answers in the wire
shapes of platform-apis.md section 1 (200 result sets split into
partitions, 202 with polling, 422 failures with Snowflake's codes); checks
the key-pair JWT against the configured public key; logs every API request
as one JSON line; and injects faults on demand (429 with or without
Retry-After, 503, slow answers, truncated JSON, a failing partition).
Every choice the public material leaves open is listed in README.md.

    snowflake.py --port-file F --public-key PUB.pem --account XY12345
                 --user ACCORD_SVC --seed SEED.json --log LOG.jsonl
                 [--partition-rows 1000] [--async-ms 0] [--page-limit 10000]
                 [--token VALUE] [--strict-idempotency] [--shuffle-columns]
                 [--gzip-partitions] [--seed-generate USERS ROLES GRANTS]

Python 3 standard library plus python3-cryptography; run with /usr/bin/python3.
"""

import argparse
import base64
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

STATEMENTS = "/api/v2/statements"
ASYNC_MSG = ("Asynchronous execution in progress. Use provided query id to "
             "perform query monitoring and management.")
OK_MSG = "Statement executed successfully."
SYSTEM_ROLES = ["ACCOUNTADMIN", "ORGADMIN", "PUBLIC", "SECURITYADMIN",
                "SYSADMIN", "USERADMIN"]
OBJECT_KINDS = {"TABLE": 3, "SCHEMA": 2, "DATABASE": 1, "WAREHOUSE": 1}
# Privileges the GRANT grammar accepts per object kind; ALL expands to the
# first list.
PRIVILEGES = {
    "TABLE": (["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES"],
              ["REBUILD", "EVOLVE SCHEMA", "APPLYBUDGET"]),
    "SCHEMA": (["USAGE", "MODIFY", "MONITOR", "CREATE TABLE", "CREATE VIEW"],
               ["ADD SEARCH OPTIMIZATION", "CREATE STAGE", "CREATE FILE FORMAT",
                "CREATE SEQUENCE", "CREATE FUNCTION", "CREATE PROCEDURE",
                "CREATE TASK", "CREATE STREAM", "CREATE PIPE",
                "CREATE MATERIALIZED VIEW", "CREATE EXTERNAL TABLE",
                "CREATE DYNAMIC TABLE", "APPLYBUDGET"]),
    "DATABASE": (["USAGE", "MODIFY", "MONITOR", "CREATE SCHEMA"],
                 ["CREATE DATABASE ROLE", "APPLYBUDGET"]),
    "WAREHOUSE": (["USAGE", "MODIFY", "MONITOR", "OPERATE"], ["APPLYBUDGET"]),
}
EPOCH0 = 1704067200  # created_on of seeded objects without one
UNQUOTED = re.compile(r"[A-Z_][A-Z0-9_$]*\Z")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def now_ns_str():
    ns = time.time_ns()
    return "%d.%09d" % (ns // 10**9, ns % 10**9)


def ts_str(v):
    """created_on as SHOW prints it: epoch seconds with nine decimals."""
    if v is None:
        return "%d.000000000" % EPOCH0
    if isinstance(v, str):
        return v
    return "%d.%09d" % (int(v), int(round((v - int(v)) * 1e9)))


def quote_ident(name):
    """A name as SHOW GRANTS renders it: bare when it needs no quotes."""
    if UNQUOTED.match(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def render_parts(parts):
    return ".".join(quote_ident(p) for p in parts)


def split_name(s):
    """Seed object names: "DB.S.T", quoted parts allowed ("A.B"), unquoted
    parts kept exactly as written; a JSON list is taken as the parts."""
    if isinstance(s, list):
        if not s or not all(isinstance(p, str) and p for p in s):
            raise ValueError("bad name parts %r" % (s,))
        return tuple(s)
    if not isinstance(s, str) or not s:
        raise ValueError("bad name %r" % (s,))
    parts, i, n = [], 0, len(s)
    while True:
        if i < n and s[i] == '"':
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise ValueError("unterminated quote in %r" % s)
                if s[j] == '"':
                    if j + 1 < n and s[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(s[j])
                j += 1
            parts.append("".join(buf))
            i = j + 1
        else:
            j = s.find(".", i)
            j = n if j < 0 else j
            parts.append(s[i:j])
            i = j
        if not parts[-1]:
            raise ValueError("empty part in %r" % s)
        if i >= n:
            return tuple(parts)
        if s[i] != ".":
            raise ValueError("bad name %r" % s)
        i += 1


def sval(v):
    """Seed scalars as SHOW prints them: strings, or null."""
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --- errors ------------------------------------------------------------------

class SqlError(Exception):
    """A statement failure: HTTP status, Snowflake code, SQL state."""

    def __init__(self, code, sqlstate, message, status=422):
        Exception.__init__(self, message)
        self.code, self.sqlstate, self.message, self.status = code, sqlstate, message, status


def not_found(kind, name):
    return SqlError("002003", "02000", "SQL compilation error:\n%s '%s' does not "
                    "exist or not authorized." % (kind, name))


# --- SQL: tokens --------------------------------------------------------------

class Tok:
    __slots__ = ("kind", "value", "text", "pos")

    def __init__(self, kind, value, text, pos):
        self.kind, self.value, self.text, self.pos = kind, value, text, pos


def syntax_error(sql, tok):
    pos = tok.pos
    line = sql.count("\n", 0, pos) + 1
    col = pos - (sql.rfind("\n", 0, pos) + 1)
    text = "<EOF>" if tok.kind == "eof" else tok.text
    return SqlError("001003", "42000", "SQL compilation error:\nsyntax error line %d "
                    "at position %d unexpected '%s'." % (line, col, text))


ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}


def tokenize(sql):
    toks, i, n = [], 0, len(sql)
    while True:
        while i < n:
            if sql[i].isspace():
                i += 1
            elif sql.startswith("--", i) or sql.startswith("//", i):
                j = sql.find("\n", i)
                i = n if j < 0 else j + 1
            elif sql.startswith("/*", i):
                j = sql.find("*/", i + 2)
                if j < 0:
                    raise syntax_error(sql, Tok("eof", None, "", n))
                i = j + 2
            else:
                break
        if i >= n:
            toks.append(Tok("eof", None, "", n))
            return toks
        c, start = sql[i], i
        if c.isascii() and (c.isalpha() or c == "_"):
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*").match(sql, i)
            i = m.end()
            toks.append(Tok("word", m.group().upper(), m.group(), start))
        elif c == '"':
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise syntax_error(sql, Tok("eof", None, "", n))
                if sql[j] == '"':
                    if j + 1 < n and sql[j + 1] == '"':
                        buf.append('"')
                        j += 2
                        continue
                    break
                buf.append(sql[j])
                j += 1
            i = j + 1
            tok = Tok("qident", "".join(buf), sql[start:i], start)
            if not buf:
                raise syntax_error(sql, tok)
            toks.append(tok)
        elif c == "'":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise syntax_error(sql, Tok("eof", None, "", n))
                ch = sql[j]
                if ch == "\\" and j + 1 < n:
                    buf.append(ESCAPES.get(sql[j + 1], sql[j + 1]))
                    j += 2
                    continue
                if ch == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(ch)
                j += 1
            i = j + 1
            toks.append(Tok("string", "".join(buf), sql[start:i], start))
        elif c.isdigit():
            m = re.compile(r"[0-9]+").match(sql, i)
            i = m.end()
            toks.append(Tok("number", int(m.group()), m.group(), start))
        else:
            i += 1
            toks.append(Tok("punct" if c in ".,;()*=?" else "other", c, c, start))


def split_statements(toks):
    """Token lists of the statements separated by ';' (empty ones dropped)."""
    out, cur = [], []
    for t in toks:
        if t.kind == "eof" or (t.kind == "punct" and t.value == ";"):
            if cur:
                out.append(cur + [Tok("eof", None, "", t.pos)])
            cur = []
        else:
            cur.append(t)
    return out


# --- SQL: parser ----------------------------------------------------------------

class Parser:
    def __init__(self, sql, toks, bindings):
        self.sql, self.toks, self.i, self.bindings = sql, toks, 0, bindings

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def fail(self, tok=None):
        raise syntax_error(self.sql, tok or self.peek())

    def take(self):
        t = self.peek()
        if t.kind != "eof":
            self.i += 1
        return t

    def is_word(self, *words, k=0):
        t = self.peek(k)
        return t.kind == "word" and t.value in words

    def accept(self, *words):
        if self.is_word(*words):
            return self.take().value
        return None

    def expect(self, *words):
        if not self.is_word(*words):
            self.fail()
        return self.take().value

    def ident(self):
        t = self.peek()
        if t.kind not in ("word", "qident"):
            self.fail()
        return self.take().value

    def qualified(self, maxparts):
        parts = [self.ident()]
        while self.peek().kind == "punct" and self.peek().value == ".":
            if len(parts) == maxparts:
                self.fail()
            self.take()
            parts.append(self.ident())
        return parts

    def string(self):
        t = self.peek()
        if t.kind == "string":
            return self.take().value
        if t.kind == "punct" and t.value == "?":
            self.take()
            self.bindings["next"] += 1
            b = self.bindings["values"].get(str(self.bindings["next"]))
            if not isinstance(b, dict) or "value" not in b:
                raise SqlError("002049", "42601", "SQL compilation error: error line 1 "
                               "at position %d\nBind variable ? not set." % t.pos)
            return str(b["value"])
        self.fail()

    def integer(self):
        if self.peek().kind != "number":
            self.fail()
        return self.take().value

    def end(self):
        if self.peek().kind != "eof":
            self.fail()

    def statement(self):
        if self.accept("SHOW"):
            return self.show()
        if self.accept("GRANT"):
            return self.grant(False)
        if self.accept("REVOKE"):
            return self.grant(True)
        self.fail()

    def show(self):
        what = self.expect("USERS", "ROLES", "GRANTS")
        if what == "GRANTS":
            if self.accept("OF"):
                self.expect("ROLE")
                cmd = {"op": "show_grants_of", "role": self.ident()}
            else:
                self.expect("TO")
                kind = self.expect("ROLE", "USER")
                cmd = {"op": "show_grants_to", "kind": kind, "name": self.ident()}
            self.end()
            return cmd
        cmd = {"op": "show_" + what.lower(), "like": None, "starts": None,
               "limit": None, "from": None}
        if self.accept("LIKE"):
            cmd["like"] = self.string()
        if self.accept("STARTS"):
            self.expect("WITH")
            cmd["starts"] = self.string()
        if self.accept("LIMIT"):
            cmd["limit"] = self.integer()
            if self.accept("FROM"):
                cmd["from"] = self.string()
        self.end()
        return cmd

    def privilege(self):
        """One privilege, possibly several words (CREATE TABLE); words are
        taken while they still spell the start of a known privilege."""
        first = self.peek()
        words = [self.expect(*(w.split()[0] for w in ALL_PRIVS))]
        while self.peek().kind == "word" and \
                any(p.split()[:len(words) + 1] == words + [self.peek().value]
                    for p in ALL_PRIVS):
            words.append(self.take().value)
        return " ".join(words), first

    def grant(self, revoke):
        if self.is_word("ROLE") and self.peek(1).kind in ("word", "qident") and \
                not (self.peek(1).kind == "word" and self.peek(1).value == "ON"):
            self.take()
            role = self.ident()
            self.expect("FROM" if revoke else "TO")
            kind = self.expect("USER", "ROLE")
            grantee = self.ident()
            self.end()
            return {"op": "revoke_role" if revoke else "grant_role", "role": role,
                    "kind": kind, "grantee": grantee}
        option_only = False
        if revoke and self.is_word("GRANT") and self.is_word("OPTION", k=1):
            self.take()
            self.take()
            self.expect("FOR")
            option_only = True
        privs = [self.privilege()]
        while self.peek().kind == "punct" and self.peek().value == ",":
            self.take()
            privs.append(self.privilege())
        self.expect("ON")
        otype = self.expect(*OBJECT_KINDS)
        parts = self.qualified(OBJECT_KINDS[otype])
        self.expect("FROM" if revoke else "TO")
        self.expect("ROLE")
        role = self.ident()
        grant_option = False
        if not revoke and self.accept("WITH"):
            self.expect("GRANT")
            self.expect("OPTION")
            grant_option = True
        if revoke:
            self.accept("CASCADE", "RESTRICT")
        self.end()
        allowed_all, allowed_more = PRIVILEGES[otype]
        names = []
        for p, tok in privs:
            if p in ("ALL", "ALL PRIVILEGES"):
                names.extend(allowed_all)
            elif p in allowed_all or p in allowed_more:
                names.append(p)
            else:
                self.fail(tok)
        return {"op": "revoke_priv" if revoke else "grant_priv", "privs": names,
                "otype": otype, "parts": parts, "role": role,
                "grant_option": grant_option, "option_only": option_only}


ALL_PRIVS = sorted({w for a, b in PRIVILEGES.values() for w in a + b} |
                   {"ALL", "ALL PRIVILEGES"})


def parse_request(sql, bindings):
    """The statements of one request text, parsed (SqlError on failure)."""
    toks = tokenize(sql)
    stmts = split_statements(toks)
    if not stmts:
        raise syntax_error(sql, toks[-1])
    b = {"values": bindings if isinstance(bindings, dict) else {}, "next": 0}
    out = []
    for st in stmts:
        cmd = Parser(sql, st, b).statement()
        end = st[-2] if len(st) > 1 else st[0]
        cmd["sql"] = sql[st[0].pos:end.pos + len(end.text)]
        out.append(cmd)
    return out


# --- columns ---------------------------------------------------------------------

def rowtype(name, typ):
    d = {"name": name, "database": "", "schema": "", "table": "", "nullable": True,
         "type": typ, "length": 0, "precision": 0, "scale": 0,
         "byteLength": None, "collation": None}
    if typ == "text":
        d.update(length=16777216, byteLength=16777216)
    elif typ == "fixed":
        d.update(precision=38)
    elif typ == "timestamp_ltz":
        d.update(scale=9)
    return d


USER_COLS = [("name", "text"), ("created_on", "timestamp_ltz"), ("login_name", "text"),
             ("display_name", "text"), ("first_name", "text"), ("last_name", "text"),
             ("email", "text"), ("mins_to_unlock", "text"), ("days_to_expiry", "text"),
             ("comment", "text"), ("disabled", "text"), ("must_change_password", "text"),
             ("snowflake_lock", "text"), ("default_warehouse", "text"),
             ("default_namespace", "text"), ("default_role", "text"),
             ("default_secondary_roles", "text"), ("ext_authn_duo", "text"),
             ("ext_authn_uid", "text"), ("mins_to_bypass_mfa", "text"), ("owner", "text"),
             ("last_success_login", "timestamp_ltz"), ("expires_at_time", "timestamp_ltz"),
             ("locked_until_time", "timestamp_ltz"), ("has_password", "text"),
             ("has_rsa_public_key", "text"), ("type", "text"), ("has_mfa", "text")]
USER_DEFAULTS = {"disabled": "false", "must_change_password": "false",
                 "snowflake_lock": "false", "ext_authn_duo": "false", "owner": "USERADMIN",
                 "has_password": "false", "has_rsa_public_key": "false", "has_mfa": "false"}
ROLE_COLS = [("created_on", "timestamp_ltz"), ("name", "text"), ("is_default", "text"),
             ("is_current", "text"), ("is_inherited", "text"),
             ("assigned_to_users", "fixed"), ("granted_to_roles", "fixed"),
             ("granted_roles", "fixed"), ("owner", "text"), ("comment", "text")]
GRANTS_OF_COLS = [("created_on", "timestamp_ltz"), ("role", "text"), ("granted_to", "text"),
                  ("grantee_name", "text"), ("granted_by", "text")]
GRANTS_TO_COLS = [("created_on", "timestamp_ltz"), ("privilege", "text"),
                  ("granted_on", "text"), ("name", "text"), ("granted_to", "text"),
                  ("grantee_name", "text"), ("grant_option", "text"), ("granted_by", "text")]
STATUS_COLS = [("status", "text")]
MULTI_COLS = [("multiple statement execution", "text")]


def like_regex(pattern):
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out) + r"\Z", re.I | re.S)


# --- state ---------------------------------------------------------------------------

class State:
    """Users, roles, grants; every method runs under Emulator.lock."""

    def __init__(self, seed, system_roles=True):
        self.users, self.roles = {}, {}
        self.rg = {}      # role -> {(granted_to, grantee): meta}   grants OF role
        self.held = {}    # (granted_to, grantee) -> set(role)       roles held
        self.privs = {}   # role -> {(privilege, kind, parts): meta}
        self.objects = None  # None: objects are not checked
        if system_roles:
            for r in SYSTEM_ROLES:
                self.roles[r] = {"name": r, "owner": "", "comment": None, "created_on": None}
        self.load(seed or {})

    def load(self, seed):
        if not isinstance(seed, dict):
            raise ValueError("seed must be a JSON object")
        for u in seed.get("users") or []:
            if not isinstance(u, dict) or not isinstance(u.get("name"), str) or not u["name"]:
                raise ValueError("user without a name: %r" % (u,))
            self.users[u["name"]] = dict(u)
        for r in seed.get("roles") or []:
            if not isinstance(r, dict) or not isinstance(r.get("name"), str) or not r["name"]:
                raise ValueError("role without a name: %r" % (r,))
            self.roles[r["name"]] = dict(r)
        if "objects" in seed:
            self.objects = self.objects or set()
            for o in seed.get("objects") or []:
                kind = str(o.get("kind", o.get("granted_on", ""))).upper()
                if kind not in OBJECT_KINDS:
                    raise ValueError("object of unknown kind: %r" % (o,))
                self.add_object(kind, split_name(o.get("name")))
        for g in seed.get("role_grants") or []:
            role, to = g.get("role"), str(g.get("granted_to", "USER")).upper()
            grantee = g.get("grantee_name")
            if role not in self.roles:
                raise ValueError("role_grants: unknown role %r" % (role,))
            if to not in ("USER", "ROLE"):
                raise ValueError("role_grants: granted_to must be USER or ROLE: %r" % (g,))
            if grantee not in (self.users if to == "USER" else self.roles):
                raise ValueError("role_grants: unknown %s %r" % (to.lower(), grantee))
            self.add_role_grant(role, to, grantee, g.get("granted_by", "SECURITYADMIN"),
                                ts_str(g.get("created_on")))
        for p in seed.get("privileges") or []:
            kind = str(p.get("granted_on", "")).upper()
            if kind not in OBJECT_KINDS:
                raise ValueError("privileges: granted_on must be one of %s: %r"
                                 % ("/".join(OBJECT_KINDS), p))
            parts = split_name(p.get("name"))
            if len(parts) != OBJECT_KINDS[kind]:
                raise ValueError("privileges: %s name needs %d parts: %r"
                                 % (kind, OBJECT_KINDS[kind], p.get("name")))
            role = p.get("grantee_name")
            if role not in self.roles:
                raise ValueError("privileges: unknown role %r" % (role,))
            priv = p.get("privilege")
            if not isinstance(priv, str) or not priv:
                raise ValueError("privileges: no privilege: %r" % (p,))
            if self.objects is not None:
                self.add_object(kind, parts)
            self.privs.setdefault(role, {})[(priv.upper(), kind, parts)] = {
                "grant_option": sval(p.get("grant_option", False)),
                "granted_by": p.get("granted_by", "SECURITYADMIN"),
                "created_on": ts_str(p.get("created_on"))}

    def add_object(self, kind, parts):
        if len(parts) != OBJECT_KINDS[kind]:
            raise ValueError("%s name needs %d parts: %r" % (kind, OBJECT_KINDS[kind], parts))
        self.objects.add((kind, parts))
        if kind == "TABLE":
            self.objects.add(("SCHEMA", parts[:2]))
        if kind in ("TABLE", "SCHEMA"):
            self.objects.add(("DATABASE", parts[:1]))

    def add_role_grant(self, role, to, grantee, by, created):
        self.rg.setdefault(role, {})[(to, grantee)] = {"granted_by": by, "created_on": created}
        self.held.setdefault((to, grantee), set()).add(role)

    def del_role_grant(self, role, to, grantee):
        self.rg.get(role, {}).pop((to, grantee), None)
        self.held.get((to, grantee), set()).discard(role)

    def dump(self):
        out = {"users": [self.users[k] for k in sorted(self.users)],
               "roles": [self.roles[k] for k in sorted(self.roles)],
               "role_grants": [], "privileges": []}
        for role in sorted(self.rg):
            for (to, grantee), m in sorted(self.rg[role].items()):
                out["role_grants"].append({"role": role, "granted_to": to,
                                           "grantee_name": grantee, **m})
        for role in sorted(self.privs):
            for (priv, kind, parts), m in sorted(self.privs[role].items()):
                out["privileges"].append({"privilege": priv, "granted_on": kind,
                                          "name": render_parts(parts),
                                          "grantee_name": role, **m})
        if self.objects is not None:
            out["objects"] = [{"kind": k, "name": render_parts(p)}
                              for k, p in sorted(self.objects)]
        return out

    def counts(self):
        return {"users": len(self.users), "roles": len(self.roles),
                "role_grants": sum(len(v) for v in self.rg.values()),
                "privileges": sum(len(v) for v in self.privs.values())}


def generate_seed(nusers, nroles, ngrants):
    """A synthetic account: USER_00001.., ANALYST_0001.., role memberships
    (nine tenths of the grants, as far as users x roles allows) and SELECT
    on BENCH.PUBLIC.T_nnnnn tables for the rest."""
    users = [{"name": "USER_%05d" % i, "login_name": "user_%05d" % i,
              "email": "user_%05d@example.com" % i, "display_name": "User %d" % i}
             for i in range(1, nusers + 1)]
    roles = [{"name": "ANALYST_%04d" % j} for j in range(1, nroles + 1)]
    members = min(ngrants - ngrants // 10, nusers * nroles) if nroles and nusers else 0
    rg = [{"role": roles[k % nroles]["name"], "granted_to": "USER",
           "grantee_name": users[k // nroles]["name"]} for k in range(members)]
    privs = []
    if nroles:
        privs = [{"privilege": "SELECT", "granted_on": "TABLE",
                  "name": "BENCH.PUBLIC.T_%05d" % (k // nroles),
                  "grantee_name": roles[k % nroles]["name"]}
                 for k in range(ngrants - members)]
    return {"users": users, "roles": roles, "role_grants": rg, "privileges": privs}


# --- statements -----------------------------------------------------------------------

class Result:
    __slots__ = ("cols", "rows")

    def __init__(self, cols, rows):
        self.cols, self.rows = cols, rows


def status_result():
    return Result(STATUS_COLS, [[OK_MSG]])


class Record:
    """One submitted statement: its handle, state and outcome."""

    def __init__(self, handle, request_id, sql, cmds, ctx, nullable):
        self.handle, self.request_id, self.sql, self.cmds, self.ctx = handle, request_id, sql, cmds, ctx
        self.nullable = nullable
        self.status = "running"       # running | done | failed | cancelled
        self.created = int(time.time() * 1000)
        self.due = 0.0
        self.timeout_first = False
        self.result = None            # Result, columns already in their final order
        self.error = None             # SqlError
        self.children = []            # handles of multi-statement parts
        self.executions = 0
        self.prows = 1000
        self.timer = None


def new_handle():
    h = uuid.uuid4().hex
    return "01%s-%s-%s-%s-%s" % (h[:6], h[6:10], h[10:14], h[14:18], h[18:30])


class Emulator:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        self.args = args
        self.account = args.account.upper()
        self.user = args.user.upper()
        self.pubkeys = []  # (key, fingerprint)
        for path in args.public_key or []:
            self.pubkeys.append(load_public_key(path))
        self.token = args.token
        self.cfg = {"async_ms": args.async_ms, "partition_rows": args.partition_rows,
                    "page_limit": args.page_limit, "shuffle_columns": args.shuffle_columns,
                    "gzip_partitions": args.gzip_partitions,
                    "strict_idempotency": args.strict_idempotency,
                    "reused_request_id": args.reused_request_id,
                    "clock_offset": args.clock_offset, "check_jwt_time": not args.no_jwt_time,
                    "system_roles": not args.no_system_roles}
        self.rand = random.Random(args.shuffle_seed)
        seed = {}
        if args.seed:
            with open(args.seed, encoding="utf-8") as f:
                seed = json.load(f)
        self.state = State(seed, self.cfg["system_roles"])
        if args.seed_generate:
            self.state.load(generate_seed(*args.seed_generate))
        self.records = {}
        self.by_rid = {}
        self.faults = []
        self.entries = []
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    # --- logging ---
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

    # --- auth ---
    def check_auth(self, headers, info):
        """None when the request may go on, else (code, message); the
        JWT's claims land in info["jwt"], the reason in info["auth_error"]."""
        ttype = headers.get("X-Snowflake-Authorization-Token-Type")
        auth = headers.get("Authorization")
        kp = ("390144", "JWT token is invalid.")
        oauth = ("390303", "Invalid OAuth access token.")
        bad = oauth if ttype in ("OAUTH", "PROGRAMMATIC_ACCESS_TOKEN") else kp
        if not auth:
            info["auth_error"] = "no Authorization header"
            return bad
        m = re.match(r"Bearer ([^\s]+)\Z", auth)
        if not m:
            info["auth_error"] = "Authorization is not 'Bearer <token>'"
            return bad
        tok = m.group(1)
        if ttype is None:
            info["auth_error"] = "no X-Snowflake-Authorization-Token-Type header"
            return bad
        if ttype in ("OAUTH", "PROGRAMMATIC_ACCESS_TOKEN"):
            if self.token is None:
                info["auth_error"] = "%s given but the emulator has no --token" % ttype
                return bad
            if tok != self.token:
                info["auth_error"] = "token differs from --token"
                return bad
            return None
        if ttype != "KEYPAIR_JWT":
            info["auth_error"] = "unknown token type %r" % ttype
            return bad
        err = self.verify_jwt(tok, info)
        if err:
            info["auth_error"] = err
            return kp
        return None

    def verify_jwt(self, tok, info):
        parts = tok.split(".")
        if len(parts) != 3 or any("=" in p for p in parts):
            return "not a compact JWS (three base64url parts without padding)"
        try:
            header = json.loads(b64url(parts[0]))
            claims = json.loads(b64url(parts[1]))
            sig = b64url(parts[2])
        except (ValueError, UnicodeDecodeError) as e:
            return "undecodable JWT: %s" % e
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return "JWT header or claims not an object"
        info["jwt"] = {k: claims.get(k) for k in ("iss", "sub", "iat", "exp")}
        info["jwt"]["header"] = header
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return "header must be {alg: RS256, typ: JWT}: %r" % header
        signed = (parts[0] + "." + parts[1]).encode("ascii")
        fp = None
        for key, kfp in self.pubkeys:
            try:
                key.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
                fp = kfp
                break
            except InvalidSignature:
                continue
        if fp is None:
            return "signature does not verify against the public key"
        qual = self.account + "." + self.user
        if claims.get("iss") != qual + "." + fp:
            return "iss %r, want %r" % (claims.get("iss"), qual + "." + fp)
        if claims.get("sub") != qual:
            return "sub %r, want %r" % (claims.get("sub"), qual)
        iat, exp = claims.get("iat"), claims.get("exp")
        for k, v in (("iat", iat), ("exp", exp)):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return "%s is not a number: %r" % (k, v)
        if self.cfg["check_jwt_time"]:
            now = time.time() + self.cfg["clock_offset"]
            if iat > now + 60:
                return "iat %d is in the future (now %d)" % (iat, now)
            if exp <= now:
                return "expired: exp %d <= now %d" % (exp, now)
        if exp - iat > 3600:
            return "lifetime exp - iat = %d s exceeds 3600 s" % (exp - iat)
        if exp <= iat:
            return "exp %d is not after iat %d" % (exp, iat)
        return None

    # --- faults ---
    def add_faults(self, faults):
        if not isinstance(faults, list):
            raise ValueError('want {"faults": [...]}')
        out = []
        for f in faults:
            if not isinstance(f, dict):
                raise ValueError("a fault must be an object: %r" % (f,))
            unknown = set(f) - {"match", "status", "retry_after", "times", "delay_ms",
                                "truncate", "partition", "body", "execute", "method"}
            if unknown:
                raise ValueError("unknown fault keys: %s" % ", ".join(sorted(unknown)))
            g = dict(f)
            g["_re"] = re.compile(f["match"]) if f.get("match") is not None else None
            st = f.get("status")
            if st is not None and (not isinstance(st, int) or not 100 <= st <= 599):
                raise ValueError("bad status %r" % (st,))
            times = f.get("times", 1)
            if not isinstance(times, int) or times < 1:
                raise ValueError("times must be a positive integer")
            g["times"] = times
            for k in ("delay_ms", "partition"):
                if f.get(k) is not None and (not isinstance(f[k], int) or f[k] < 0):
                    raise ValueError("%s must be a non-negative integer" % k)
            out.append(g)
        with self.lock:
            self.faults.extend(out)

    def public_faults(self):
        with self.lock:
            return [{k: v for k, v in f.items() if not k.startswith("_")} for f in self.faults]

    def take_fault(self, method, target, statement, partition):
        with self.lock:
            for f in self.faults:
                if f.get("method") and f["method"].upper() != method:
                    continue
                if f.get("partition") is not None and f["partition"] != partition:
                    continue
                rx = f["_re"]
                if rx is not None and not (rx.search(target) or
                                           (statement is not None and rx.search(statement))):
                    continue
                f["times"] -= 1
                if f["times"] <= 0:
                    self.faults.remove(f)
                return f
        return None

    # --- statements ---
    def settle(self, rec, force=False):
        """Finish a running statement whose time has come (lock held)."""
        if rec.status != "running":
            return
        if not force and time.monotonic() < rec.due:
            return
        if rec.timer:
            rec.timer.cancel()
            rec.timer = None
        if rec.timeout_first:
            rec.status = "failed"
            rec.error = SqlError("000630", "57014", "Statement reached its statement or "
                                 "warehouse timeout of %d second(s) and was canceled."
                                 % rec.ctx["timeout"], status=408)
            return
        self.run(rec)

    def timer_fired(self, rec):
        with self.lock:
            self.settle(rec, force=True)

    def run(self, rec):
        rec.executions += 1
        rec.prows = self.cfg["partition_rows"]
        try:
            if len(rec.cmds) == 1:
                rec.result = self.shuffle(self.execute(rec.cmds[0], rec.ctx))
            else:
                for cmd in rec.cmds:
                    child = Record(new_handle(), None, cmd["sql"], [cmd], rec.ctx, rec.nullable)
                    self.records[child.handle] = child
                    rec.children.append(child.handle)
                    child.executions = 1
                    try:
                        child.result = self.shuffle(self.execute(cmd, rec.ctx))
                        child.status = "done"
                    except SqlError as e:
                        child.status, child.error = "failed", e
                        raise
                rec.result = Result(MULTI_COLS, [["Multiple statements executed successfully."]])
            rec.status = "done"
        except SqlError as e:
            rec.status, rec.error = "failed", e

    def shuffle(self, res):
        if not self.cfg["shuffle_columns"] or len(res.cols) < 2:
            return res
        perm = list(range(len(res.cols)))
        while perm == sorted(perm):
            self.rand.shuffle(perm)
        return Result([res.cols[i] for i in perm], [[r[i] for i in perm] for r in res.rows])

    def execute(self, cmd, ctx):
        op = cmd["op"]
        st = self.state
        if op in ("show_users", "show_roles"):
            names = sorted(st.users if op == "show_users" else st.roles)
            if cmd["like"] is not None:
                rx = like_regex(cmd["like"])
                names = [n for n in names if rx.match(n)]
            if cmd["starts"] is not None:
                names = [n for n in names if n.startswith(cmd["starts"])]
            if cmd["from"] is not None:
                cur = cmd["from"]
                at = next((i for i, n in enumerate(names) if n.startswith(cur)), None)
                names = names[at + 1:] if at is not None else [n for n in names if n > cur]
            limit = self.cfg["page_limit"]
            if cmd["limit"] is not None:
                limit = min(limit, cmd["limit"])
            names = names[:limit]
            if op == "show_users":
                return Result(USER_COLS, [self.user_row(st.users[n]) for n in names])
            return Result(ROLE_COLS, self.role_rows(names, ctx))
        if op == "show_grants_of":
            role = cmd["role"]
            if role not in st.roles:
                raise not_found("Role", quote_ident(role))
            rows = []
            for (to, grantee), m in sorted(st.rg.get(role, {}).items(),
                                          key=lambda kv: (kv[0][1], kv[0][0])):
                rows.append([m["created_on"], role, to, quote_ident(grantee), m["granted_by"]])
            return Result(GRANTS_OF_COLS, rows)
        if op == "show_grants_to":
            name, kind = cmd["name"], cmd["kind"]
            if name not in (st.roles if kind == "ROLE" else st.users):
                raise not_found(kind.capitalize(), quote_ident(name))
            rows = []
            for role in st.held.get((kind, name), ()):
                m = st.rg[role][(kind, name)]
                rows.append([m["created_on"], "USAGE", "ROLE", quote_ident(role), kind,
                             quote_ident(name), "false", m["granted_by"]])
            if kind == "ROLE":
                for (priv, okind, parts), m in st.privs.get(name, {}).items():
                    rows.append([m["created_on"], priv, okind, render_parts(parts), "ROLE",
                                 quote_ident(name), m["grant_option"], m["granted_by"]])
            rows.sort(key=lambda r: (r[3], r[2], r[1]))
            return Result(GRANTS_TO_COLS, rows)
        if op in ("grant_role", "revoke_role"):
            role, kind, grantee = cmd["role"], cmd["kind"], cmd["grantee"]
            if role not in st.roles:
                raise not_found("Role", quote_ident(role))
            if grantee not in (st.users if kind == "USER" else st.roles):
                raise not_found(kind.capitalize(), quote_ident(grantee))
            exists = (kind, grantee) in st.rg.get(role, {})
            if op == "grant_role":
                if exists:
                    self.idempotent(True)
                    return status_result()
                if kind == "ROLE" and (role == grantee or self.reaches(role, grantee)):
                    raise SqlError("003013", "42601", "SQL execution error:\nGranting role "
                                   "'%s' to role '%s' would create a cycle."
                                   % (quote_ident(role), quote_ident(grantee)))
                st.add_role_grant(role, kind, grantee, ctx["role"], now_ns_str())
            else:
                if not exists:
                    self.idempotent(False)
                    return status_result()
                st.del_role_grant(role, kind, grantee)
            return status_result()
        if op in ("grant_priv", "revoke_priv"):
            parts = self.resolve(cmd["otype"], cmd["parts"], ctx, op)
            role = cmd["role"]
            otype = cmd["otype"]
            if st.objects is not None and (otype, parts) not in st.objects:
                raise not_found(otype.capitalize(), render_parts(parts))
            if role not in st.roles:
                raise not_found("Role", quote_ident(role))
            have = st.privs.setdefault(role, {})
            keys = [(p, otype, parts) for p in cmd["privs"]]
            if op == "grant_priv":
                fresh = [k for k in keys if k not in have or
                         (cmd["grant_option"] and have[k]["grant_option"] != "true")]
                if len(fresh) < len(keys):
                    self.idempotent(True)
                for k in fresh:
                    if k in have:
                        have[k]["grant_option"] = "true"
                    else:
                        have[k] = {"grant_option": "true" if cmd["grant_option"] else "false",
                                   "granted_by": ctx["role"], "created_on": now_ns_str()}
            else:
                present = [k for k in keys if k in have]
                if len(present) < len(keys):
                    self.idempotent(False)
                for k in present:
                    if cmd["option_only"]:
                        have[k]["grant_option"] = "false"
                    else:
                        del have[k]
            return status_result()
        raise AssertionError(op)

    def idempotent(self, grant):
        """Granting what is there / revoking what is not: success, unless
        --strict-idempotency (raised before any change is made)."""
        if not self.cfg["strict_idempotency"]:
            return
        if grant:
            raise SqlError("002002", "42710", "SQL compilation error:\nGrant already exists.")
        raise SqlError("002003", "02000", "SQL compilation error:\nGrant does not exist "
                       "or not authorized.")

    def reaches(self, start, target):
        """Whether `start` already holds `target`, directly or through other
        roles: then granting start to target would close a cycle."""
        seen, todo = set(), [start]
        while todo:
            r = todo.pop()
            for held in self.state.held.get(("ROLE", r), ()):
                if held == target:
                    return True
                if held not in seen:
                    seen.add(held)
                    todo.append(held)
        return False

    def resolve(self, otype, parts, ctx, op):
        need = OBJECT_KINDS[otype]
        parts = list(parts)
        verb = "GRANT" if op.startswith("grant") else "REVOKE"
        if len(parts) < need and need - len(parts) == 1 and otype == "TABLE":
            if not ctx.get("schema"):
                raise SqlError("090106", "22000", "Cannot perform %s. This session does not "
                               "have a current schema. Call 'USE SCHEMA', or use a "
                               "qualified name." % verb)
            parts.insert(0, ctx["schema"])
        if len(parts) < need:
            if not ctx.get("database"):
                raise SqlError("090105", "22000", "Cannot perform %s. This session does not "
                               "have a current database. Call 'USE DATABASE', or use a "
                               "qualified name." % verb)
            parts.insert(0, ctx["database"])
        if len(parts) < need:
            if not ctx.get("schema"):
                raise SqlError("090106", "22000", "Cannot perform %s. This session does not "
                               "have a current schema. Call 'USE SCHEMA', or use a "
                               "qualified name." % verb)
            parts.insert(1, ctx["schema"])
        return tuple(parts)

    def user_row(self, u):
        row = []
        for c, _ in USER_COLS:
            if c == "created_on":
                row.append(ts_str(u.get("created_on")))
            elif c == "login_name":
                row.append(sval(u.get("login_name", u["name"].upper())))
            elif c == "display_name":
                row.append(sval(u.get("display_name", u["name"])))
            else:
                row.append(sval(u.get(c, USER_DEFAULTS.get(c))))
        return row

    def role_rows(self, names, ctx):
        st = self.state
        svc = st.users.get(self.user) or {}
        inherited = set()
        todo = [ctx["role"]]
        while todo:
            for r in st.held.get(("ROLE", todo.pop()), ()):
                if r not in inherited:
                    inherited.add(r)
                    todo.append(r)
        rows = []
        for n in names:
            r = st.roles[n]
            grants = st.rg.get(n, {})
            users = sum(1 for to, _ in grants if to == "USER")
            rows.append([ts_str(r.get("created_on")), n,
                         "Y" if svc.get("default_role") == n else "N",
                         "Y" if ctx["role"] == n else "N",
                         "Y" if n in inherited else "N",
                         str(users), str(len(grants) - users),
                         str(len(st.held.get(("ROLE", n), ()))),
                         sval(r.get("owner", "USERADMIN")), sval(r.get("comment"))])
        return rows

    # --- responses ---
    def partitions(self, rec):
        n = max(1, rec.prows)
        rows = rec.result.rows
        if rec.nullable is False:
            rows = [["null" if v is None else v for v in r] for r in rows]
        chunks = [rows[i:i + n] for i in range(0, len(rows), n)] or [[]]
        return chunks

    def url(self, rec):
        return STATEMENTS + "/" + rec.handle

    def answer(self, rec, partition=None):
        """(status, headers, body object, compressible) for a record."""
        if rec.status == "running":
            return 202, {}, {"code": "333334", "message": ASYNC_MSG,
                             "statementHandle": rec.handle,
                             "statementStatusUrl": self.url(rec)}, False
        if rec.status in ("failed", "cancelled"):
            e = rec.error
            return e.status, {}, {"code": e.code, "sqlState": e.sqlstate, "message": e.message,
                                  "statementHandle": rec.handle, "createdOn": rec.created,
                                  "statementStatusUrl": self.url(rec)}, False
        chunks = self.partitions(rec)
        if partition is not None:
            if partition >= len(chunks):
                return 422, {}, {"code": "000422", "sqlState": "22023",
                                 "message": "Partition %d is out of range (the result has "
                                 "%d)." % (partition, len(chunks)),
                                 "statementHandle": rec.handle}, False
            return 200, {}, {"data": chunks[partition]}, partition > 0
        info = [{"rowCount": len(c),
                 "uncompressedSize": len(json.dumps(c, separators=(",", ":")))}
                for c in chunks]
        body = {"resultSetMetaData": {"numRows": len(rec.result.rows), "format": "jsonv2",
                                      "partitionInfo": info,
                                      "rowType": [rowtype(n, t) for n, t in rec.result.cols]},
                "data": chunks[0], "code": "090001", "statementStatusUrl": self.url(rec),
                "requestId": rec.request_id, "sqlState": "00000",
                "statementHandle": rec.handle, "message": OK_MSG, "createdOn": rec.created}
        if rec.children:
            body["statementHandles"] = rec.children
        base = "%s?requestId=%s&partition=" % (self.url(rec), rec.request_id)
        links = ['<%s0>; rel="first"' % base]
        if len(chunks) > 1:
            links.append('<%s1>; rel="next"' % base)
        links.append('<%s%d>; rel="last"' % (base, len(chunks) - 1))
        return 200, {"Link": ",".join(links)}, body, False

    def submit(self, q, body):
        """POST /api/v2/statements after auth: (status, headers, body, False, record)."""
        rid = q.get("requestId")
        retry = q.get("retry", "").lower() == "true"
        if rid is not None and not UUID_RE.match(rid):
            return generic(400, "requestId must be a UUID: %r" % rid) + (None,)
        if not isinstance(body, dict):
            return generic(400, "The request body must be a JSON object.") + (None,)
        sql = body.get("statement")
        if not isinstance(sql, str) or not sql.strip():
            return generic(400, "The request body has no statement.") + (None,)
        timeout = body.get("timeout", 0)
        if timeout is None:
            timeout = 0
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
            return generic(400, "timeout must be a non-negative integer.") + (None,)
        for k in ("role", "warehouse", "database", "schema"):
            if body.get(k) is not None and not isinstance(body[k], str):
                return generic(400, "%s must be a string." % k) + (None,)
        params = body.get("parameters") or {}
        if not isinstance(params, dict):
            return generic(400, "parameters must be an object.") + (None,)
        with self.lock:
            if rid is not None and rid in self.by_rid:
                rec = self.records[self.by_rid[rid]]
                if retry or self.cfg["reused_request_id"] == "replay":
                    self.settle(rec)
                    return self.answer(rec) + (rec,)
                return (422, {}, {"code": "000422", "sqlState": "22000",
                                  "message": "Request ID %s was already submitted; resubmit "
                                  "it with retry=true." % rid}, False, None)
            role = body.get("role")
            if role is not None and role not in self.state.roles:
                return (422, {}, {"code": "390189", "sqlState": "08004",
                                  "message": "Role '%s' specified in the connect string does "
                                  "not exist or not authorized. Contact your local system "
                                  "administrator, or attempt to login with another role, "
                                  "e.g. PUBLIC." % role}, False, None)
            if role is None:
                role = (self.state.users.get(self.user) or {}).get("default_role") or "PUBLIC"
            ctx = {"role": role, "warehouse": body.get("warehouse"),
                   "database": body.get("database"), "schema": body.get("schema"),
                   "timeout": timeout}
            nullable = q.get("nullable", "true").lower() != "false"
            rec = Record(new_handle(), rid or str(uuid.uuid4()), sql, [], ctx, nullable)
            self.records[rec.handle] = rec
            self.by_rid[rec.request_id] = rec.handle
            try:
                rec.cmds = parse_request(sql, body.get("bindings"))
                want = params.get("MULTI_STATEMENT_COUNT", 1)
                try:
                    want = int(want)
                except (TypeError, ValueError):
                    want = -1
                if want < 0 or (want != 0 and want != len(rec.cmds)):
                    raise SqlError("000008", "0A000", "Actual statement count %d did not "
                                   "match the desired statement count %s."
                                   % (len(rec.cmds), params.get("MULTI_STATEMENT_COUNT", 1)))
            except SqlError as e:
                rec.status, rec.error = "failed", e
                return self.answer(rec) + (rec,)
            delay = self.cfg["async_ms"] / 1000.0
            if q.get("async", "").lower() == "true" or delay > 0:
                if timeout and delay > timeout:
                    delay, rec.timeout_first = float(timeout), True
                rec.due = time.monotonic() + delay
                rec.timer = threading.Timer(delay, self.timer_fired, [rec])
                rec.timer.daemon = True
                rec.timer.start()
                return self.answer(rec) + (rec,)
            self.run(rec)
            return self.answer(rec) + (rec,)


def b64url(s):
    if not re.match(r"[A-Za-z0-9_-]*\Z", s):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_public_key(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = serialization.load_pem_private_key(data, password=None).public_key()
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def generic(status, message=None):
    """An HTTP-level error outside the QueryStatus shapes: {"code", "message"}."""
    if message is None:
        message = {429: "Too many requests. Request rate exceeds max.",
                   503: "Service Unavailable"}.get(status, http.client.responses.get(
                       status, "Error"))
    return status, {}, {"code": "%06d" % status, "message": message}, False


# --- HTTP -----------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "snowflake-emulator/1"
    # Headers and body in one segment: split writes meet the client's
    # delayed ACK and cost 40 ms per answer on a kept-alive connection.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        if self.server.emu.args.verbose:
            sys.stderr.write("snowflake-emulator: " + (fmt % a) + "\n")

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

    def send(self, status, headers, payload, ctype="application/json"):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
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
            self.send(500, {}, json.dumps({"code": "000500", "message":
                                           "emulator error: %s" % e}).encode())

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
                    st = State(doc, emu.cfg["system_roles"])
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
                            if k not in emu.cfg or k == "system_roles":
                                raise ValueError("unknown or fixed setting %r" % k)
                            if type(v) is not type(emu.cfg[k]) and not (
                                    isinstance(v, int) and isinstance(emu.cfg[k], (int, float))
                                    and not isinstance(v, bool)):
                                raise ValueError("%s: want %s" % (k, type(emu.cfg[k]).__name__))
                        if doc.get("reused_request_id", "reject") not in ("reject", "replay"):
                            raise ValueError("reused_request_id: reject or replay")
                        emu.cfg.update(doc)
                        return self.reply(200, emu.cfg)
            elif path == "/_emulator/statements":
                if method == "GET":
                    with emu.lock:
                        return self.reply(200, [
                            {"handle": r.handle, "requestId": r.request_id, "statement": r.sql,
                             "status": r.status, "executions": r.executions,
                             "error": r.error.code if r.error else None}
                            for r in emu.records.values()])
            else:
                return self.reply(404, {"error": "no such control endpoint"})
            return self.reply(405, {"error": "method not allowed"})
        except (ValueError, re.error, TypeError, AttributeError) as e:
            return self.reply(400, {"error": str(e)})

    def reply(self, status, obj):
        self.send(status, {}, json.dumps(obj).encode())

    def api(self, method, url, raw):
        emu = self.server.emu
        t0 = time.time()
        q = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {}
        for k, v in self.headers.items():
            headers[k] = headers[k] + ", " + v if k in headers else v
        body, statement = None, None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        path = url.path
        m = re.fullmatch(re.escape(STATEMENTS) + r"/([^/]+)(/cancel)?", path)
        handle = m.group(1) if m else None
        if path == STATEMENTS and method == "POST" and isinstance(body, dict) and \
                isinstance(body.get("statement"), str):
            statement = body["statement"]
        partition = None
        if "partition" in q:
            try:
                partition = int(q["partition"])
            except ValueError:
                partition = -1
        info = {"jwt": None, "auth_error": None}
        target = path + ("?" + url.query if url.query else "")
        fault_sql = statement
        if handle:
            with emu.lock:
                r = emu.records.get(handle)
                fault_sql = r.sql if r else None
        fault = emu.take_fault(method, target, fault_sql, partition)
        rec = None
        if fault and fault.get("status") and not fault.get("execute"):
            # A front-end answer: the statement never runs (the auth header
            # is still read so that the log shows who called).
            emu.check_auth(headers, info)
            resp = self.fault_response(fault)
        else:
            resp = self.route(method, path, handle, m, q, body, headers, info, partition)
            rec = resp[4] if len(resp) > 4 else None
            resp = resp[:4]
            if fault and fault.get("status"):
                resp = self.fault_response(fault)
        status, hdrs, obj, compressible = resp
        if fault and fault.get("retry_after") is not None:
            hdrs = dict(hdrs, **{"Retry-After": str(fault["retry_after"])})
        payload = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if fault and fault.get("truncate"):
            t = fault["truncate"]
            keep = t if isinstance(t, int) and not isinstance(t, bool) else len(payload) // 2
            payload = payload[:max(0, min(keep, len(payload) - 1))]
        if compressible and emu.cfg["gzip_partitions"] and \
                "gzip" in (self.headers.get("Accept-Encoding") or "").lower():
            payload = gzip.compress(payload)
            hdrs = dict(hdrs, **{"Content-Encoding": "gzip"})
        if fault and fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)) +
                 ".%03dZ" % int((t0 % 1) * 1000), "t": t0, "method": method, "path": path,
                 "query": q, "headers": headers, "body": body, "statement": statement,
                 "requestId": q.get("requestId"), "status": status,
                 "handle": handle or (rec.handle if rec else None),
                 "partition": partition, "jwt": info["jwt"], "auth_error": info["auth_error"],
                 "fault": {k: v for k, v in fault.items() if not k.startswith("_")
                           and k != "times"} if fault else None,
                 "ms": int((time.time() - t0) * 1000)}
        emu.log(entry)
        if emu.args.verbose and info["auth_error"]:
            sys.stderr.write("snowflake-emulator: 401: %s\n" % info["auth_error"])
        self.send(status, hdrs, payload)

    def fault_response(self, fault):
        if fault.get("body") is not None:
            return fault["status"], {}, fault["body"], False
        return generic(fault["status"])

    def route(self, method, path, handle, m, q, body, headers, info, partition):
        emu = self.server.emu
        if path == STATEMENTS:
            if method != "POST":
                return generic(405)
        elif not m:
            return generic(404, "The request endpoint is not valid.")
        elif m.group(2) and method != "POST":
            return generic(405)
        elif not m.group(2) and method != "GET":
            return generic(405)
        if method == "POST":
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if path == STATEMENTS and ctype != "application/json":
                return generic(415, "Content-Type must be application/json.")
        if "application/json" not in (headers.get("Accept") or "").lower():
            return generic(406, "Accept must include application/json.")
        bad = emu.check_auth(headers, info)
        if bad:
            return 401, {}, {"code": bad[0], "message": bad[1]}, False
        if path == STATEMENTS:
            if isinstance(body, str) or body is None:
                return generic(400, "Unable to parse the request body as JSON.")
            return emu.submit(q, body)
        with emu.lock:
            rec = emu.records.get(handle)
            if rec is None:
                return 404, {}, {"code": "000709", "sqlState": "02000",
                                 "message": "Statement %s not found" % handle}, False
            if m.group(2):
                if rec.status == "running":
                    if rec.timer:
                        rec.timer.cancel()
                    rec.status = "cancelled"
                    rec.error = SqlError("000604", "57014", "SQL execution canceled")
                return 200, {}, {"code": "000000", "sqlState": "00000",
                                 "message": "successfully canceled",
                                 "statementHandle": rec.handle,
                                 "statementStatusUrl": emu.url(rec)}, False, rec
            emu.settle(rec)
            if partition is not None and partition < 0:
                return 422, {}, {"code": "000422", "sqlState": "22023",
                                 "message": "partition must be a non-negative integer",
                                 "statementHandle": rec.handle}, False, rec
            return emu.answer(rec, partition) + (rec,)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None):
    ap = argparse.ArgumentParser(description="Snowflake SQL API v2 emulator")
    ap.add_argument("--port", type=int, default=0, help="port (0: ephemeral)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--public-key", action="append",
                    help="PEM public (or private) key checking KEYPAIR_JWT; repeat for rotation")
    ap.add_argument("--account", default="XY12345")
    ap.add_argument("--user", default="ACCORD_SVC")
    ap.add_argument("--token", help="accept OAUTH / PROGRAMMATIC_ACCESS_TOKEN bearer VALUE")
    ap.add_argument("--seed", help="seed state JSON")
    ap.add_argument("--seed-generate", nargs=3, type=int, metavar=("USERS", "ROLES", "GRANTS"))
    ap.add_argument("--log", help="append one JSON line per API request")
    ap.add_argument("--partition-rows", type=int, default=1000)
    ap.add_argument("--async-ms", type=int, default=0)
    ap.add_argument("--page-limit", type=int, default=10000,
                    help="most rows SHOW USERS/ROLES return, LIMIT or not")
    ap.add_argument("--strict-idempotency", action="store_true")
    ap.add_argument("--shuffle-columns", action="store_true")
    ap.add_argument("--shuffle-seed", type=int, default=None)
    ap.add_argument("--gzip-partitions", action="store_true")
    ap.add_argument("--reused-request-id", choices=("reject", "replay"), default="reject")
    ap.add_argument("--clock-offset", type=int, default=0,
                    help="seconds added to the clock for JWT iat/exp checks")
    ap.add_argument("--no-jwt-time", action="store_true", help="skip JWT iat/exp vs clock")
    ap.add_argument("--no-system-roles", action="store_true")
    ap.add_argument("--parent-pid", type=int, default=None,
                    help="exit when this process goes away")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    if not args.public_key and args.token is None:
        ap.error("give --public-key and/or --token")
    try:
        emu = Emulator(args)
    except (OSError, ValueError) as e:
        sys.stderr.write("snowflake-emulator: %s\n" % e)
        return 2
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.emu = emu
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("snowflake-emulator: listening on 127.0.0.1:%d (%s)\n"
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
