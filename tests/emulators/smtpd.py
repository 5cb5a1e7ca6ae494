#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for accord's email tests, built on
Debian's python3-aiosmtpd.  Every message it accepts is saved as
MAILDIR/NNNN.json (written atomically, numbered from 0001) with the
envelope, the raw DATA and its parsed headers and body, so a test can
check recipients, subject, body, and that no secret went out.

    smtpd.py --port-file F --maildir DIR [--auth USER:PASS]
             [--require-auth] [--auth-require-tls]
             [--starttls CERT KEY] [--require-starttls] [--smtps CERT KEY]
             [--fail-first N] [--reject-rcpt REGEX] [--log LOG.jsonl]
             [--parent-pid PID]

- `--auth USER:PASS` offers AUTH PLAIN and LOGIN and accepts exactly
  these credentials (535 otherwise).  AUTH is offered over plain TCP too
  (loopback tests), unless `--auth-require-tls`.  `--require-auth`
  refuses MAIL before a successful AUTH (530).
- `--starttls CERT KEY` offers STARTTLS with that certificate (a test
  makes a self-signed one with openssl); `--require-starttls` refuses
  every command but EHLO/NOOP/QUIT/STARTTLS before it.  `--smtps CERT
  KEY` speaks TLS from the first byte instead (smtps://).
- `--fail-first N` answers the first N DATA commands, after the data,
  with 451 4.3.0 (a temporary failure, to test retrying).
- `--reject-rcpt REGEX` answers 550 5.1.1 to matching RCPT TO addresses.
- `--log F` appends one JSON line per SMTP session event (connect, ehlo,
  starttls, auth (user and mechanism, never the password), mail, rcpt,
  data with the answer given).

The JSON of a message: n, t, peer, helo, tls (bool), auth_user,
auth_mechanism, mail_from, mail_options, rcpt_tos, rcpt_options, data
(the message as received, dot-unstuffed, CRLF kept; undecodable bytes as
U+FFFD), header_list ([[name, raw value], ...] unfolded), headers
({lower-case name: raw value}, the first of repeats), decoded ({lower-case
name: RFC 2047-decoded value}), body (the body as sent after the blank
line), text (the body decoded by its charset and transfer encoding),
defects (the parser's complaints).

Python 3 standard library plus python3-aiosmtpd; run with /usr/bin/python3.
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import re
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def is_tls(server, session):
    """STARTTLS sets session.ssl; implicit TLS (--smtps) shows on the
    transport."""
    if session is not None and session.ssl is not None:
        return True
    t = getattr(server, "transport", None)
    return t is not None and t.get_extra_info("ssl_object") is not None


class Handler:
    def __init__(self, args):
        self.args = args
        self.n = 0
        self.data_seen = 0
        os.makedirs(args.maildir, exist_ok=True)
        existing = [f for f in os.listdir(args.maildir) if re.match(r"\d{4,}\.json\Z", f)]
        self.n = max([int(f.split(".")[0]) for f in existing] or [0])
        self.user, self.password = None, None
        if args.auth:
            if ":" not in args.auth:
                raise ValueError("--auth wants USER:PASS")
            self.user, self.password = args.auth.split(":", 1)
        self.reject = re.compile(args.reject_rcpt) if args.reject_rcpt else None
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(self, session, event, **kw):
        if not self.logf:
            return
        kw.update({"t": time.time(), "event": event,
                   "peer": list(session.peer) if session and session.peer else None})
        self.logf.write(json.dumps(kw, sort_keys=True) + "\n")
        self.logf.flush()

    # --- hooks ---
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.user is None:
            responses = [r for r in responses if not r.startswith("250-AUTH")]
        self.log(session, "ehlo", helo=hostname, tls=is_tls(server, session),
                 offered=[r[4:] for r in responses])
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.require_auth and not session.authenticated:
            self.log(session, "mail", address=address, answer="530")
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.log(session, "mail", address=address, options=mail_options, answer="250")
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject is not None and self.reject.search(address):
            self.log(session, "rcpt", address=address, answer="550")
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self.log(session, "rcpt", address=address, answer="250")
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_seen += 1
        if self.data_seen <= self.args.fail_first:
            self.log(session, "data", answer="451", bytes=len(envelope.original_content or b""))
            return "451 4.3.0 Temporary failure, try again later"
        self.n += 1
        doc = self.describe(session, envelope, is_tls(server, session))
        path = os.path.join(self.args.maildir, "%04d.json" % self.n)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
        self.log(session, "data", answer="250", n=self.n,
                 bytes=len(envelope.original_content or b""))
        return "250 2.0.0 OK queued as %04d" % self.n

    def describe(self, session, envelope, tls):
        raw = envelope.original_content or b""
        data = raw.decode("utf-8", "replace")
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = raw.partition(b"\n\n")
        legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
        modern = email.message_from_bytes(raw, policy=email.policy.default)
        header_list = [[k, re.sub(r"\r?\n[ \t]", " ", v) if isinstance(v, str) else str(v)]
                       for k, v in legacy.raw_items()]
        headers, decoded = {}, {}
        for k, v in header_list:
            headers.setdefault(k.lower(), v)
        for k in headers:
            try:
                decoded[k] = str(modern[k])
            except Exception as e:  # a malformed header: say so
                decoded[k] = "<undecodable: %s>" % e
        try:
            text = modern.get_content() if not modern.is_multipart() else None
        except Exception as e:
            text = "<undecodable: %s>" % e
        defects = [type(d).__name__ for d in modern.defects]
        return {"n": self.n, "t": time.time(),
                "peer": list(session.peer) if session.peer else None,
                "helo": session.host_name, "tls": tls,
                "auth_user": (session.auth_data.login.decode("utf-8", "replace")
                              if isinstance(session.auth_data, LoginPassword) else None),
                "auth_mechanism": getattr(session, "_accord_mech", None),
                "mail_from": envelope.mail_from, "mail_options": envelope.mail_options,
                "rcpt_tos": envelope.rcpt_tos, "rcpt_options": envelope.rcpt_options,
                "data": data, "header_list": header_list, "headers": headers,
                "decoded": decoded, "body": body.decode("utf-8", "replace"),
                "text": text, "defects": defects}

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.user is not None and
              auth_data.login == self.user.encode() and
              auth_data.password == self.password.encode())
        login = auth_data.login.decode("utf-8", "replace") \
            if isinstance(auth_data, LoginPassword) else None
        # The password is never logged; whether it matched is.
        self.log(session, "auth", mechanism=mechanism, user=login, success=ok,
                 tls=is_tls(server, session))
        if ok:
            session._accord_mech = mechanism
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main(argv=None):
    ap = argparse.ArgumentParser(description="SMTP test server (aiosmtpd)")
    ap.add_argument("--port", type=int, default=0, help="port (0: ephemeral)")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--maildir", required=True, help="save each message as DIR/NNNN.json")
    ap.add_argument("--auth", help="USER:PASS accepted by AUTH PLAIN/LOGIN")
    ap.add_argument("--require-auth", action="store_true", help="530 to MAIL before AUTH")
    ap.add_argument("--auth-require-tls", action="store_true",
                    help="offer AUTH only after STARTTLS")
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"),
                    help="offer STARTTLS with this certificate and key")
    ap.add_argument("--require-starttls", action="store_true",
                    help="refuse commands before STARTTLS")
    ap.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"),
                    help="TLS from the first byte with this certificate and key")
    ap.add_argument("--fail-first", type=int, default=0,
                    help="answer 451 to the first N DATA commands")
    ap.add_argument("--reject-rcpt", help="answer 550 to RCPT TO addresses matching REGEX")
    ap.add_argument("--log", help="append one JSON line per session event")
    ap.add_argument("--hostname", default="smtpd.test", help="the name in the banner")
    ap.add_argument("--parent-pid", type=int, default=None,
                    help="exit when this process goes away")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.ERROR,
                        stream=sys.stderr)
    if args.starttls and args.smtps:
        ap.error("--starttls and --smtps exclude each other")
    if args.require_starttls and not args.starttls:
        ap.error("--require-starttls needs --starttls")
    try:
        handler = Handler(args)
        starttls_ctx = tls_context(*args.starttls) if args.starttls else None
        smtps_ctx = tls_context(*args.smtps) if args.smtps else None
    except (OSError, ValueError, re.error, ssl.SSLError) as e:
        sys.stderr.write("smtpd: %s\n" % e)
        return 2

    def factory():
        return SMTP(handler, hostname=args.hostname, ident="accord-test smtpd",
                    tls_context=starttls_ctx, require_starttls=args.require_starttls,
                    auth_require_tls=args.auth_require_tls or args.auth is None,
                    authenticator=handler.authenticator,
                    auth_exclude_mechanism=None if args.auth else ["PLAIN", "LOGIN"],
                    enable_SMTPUTF8=True, decode_data=False, timeout=60)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    srv = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1",
                                                     port=args.port, ssl=smtps_ctx))
    port = srv.sockets[0].getsockname()[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    sys.stderr.write("smtpd: listening on 127.0.0.1:%d%s%s%s\n" % (
        port, " (STARTTLS)" if args.starttls else "", " (TLS)" if args.smtps else "",
        " (AUTH)" if args.auth else ""))

    def stop(*_):
        loop.call_soon_threadsafe(loop.stop)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.parent_pid:
        def watch():
            while True:
                time.sleep(0.5)
                try:
                    os.kill(args.parent_pid, 0)
                except OSError:
                    loop.call_soon_threadsafe(loop.stop)
                    return
        threading.Thread(target=watch, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
