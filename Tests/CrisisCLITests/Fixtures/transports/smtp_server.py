#!/usr/bin/env python3
"""A local SMTP server for the transport tests (aiosmtpd, loopback only).

Writes its port to DIR/port and one JSON line per accepted or refused message to DIR/messages.jsonl: envelope
sender and recipients, and the parsed message (To, Subject, Message-ID, X-Crisis-Delivery-Key, the text). The
recipient's local part decides the answer:

  reject@...   550 at RCPT (refused for good)
  later@...    451 at RCPT (try again later)
  flaky@...    451 for the first 2 attempts, then accepted
  anything else: 250

With SMTP_TLS_CERT and SMTP_TLS_KEY set, it requires STARTTLS and then AUTH LOGIN/PLAIN as SMTP_USER with
SMTP_PASS (each login is logged). It stops by itself after LIFETIME seconds (default 300).
"""
import email, email.policy, json, os, socket, ssl, sys, threading, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

DIR = sys.argv[1]
LIFETIME = float(sys.argv[2]) if len(sys.argv) > 2 else 300
counts = {}


def log(entry):
    with open(os.path.join(DIR, "messages.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        counts[local] = counts.get(local, 0) + 1
        if local == "reject":
            log({"rcpt": address, "answer": 550})
            return "550 5.1.1 no such mailbox"
        if local == "later" or (local == "flaky" and counts[local] <= 2):
            log({"rcpt": address, "answer": 451})
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        log({"answer": 250, "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "to": str(msg["To"]),
             "subject": str(msg["Subject"]), "message_id": str(msg["Message-ID"]),
             "key": str(msg["X-Crisis-Delivery-Key"]), "text": msg.get_content()})
        return "250 2.0.0 queued as test"


s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == os.environ.get("SMTP_USER") \
        and auth_data.password.decode() == os.environ.get("SMTP_PASS")
    log({"auth": mechanism, "ok": ok, "tls": session.ssl is not None})
    return AuthResult(success=ok)


kwargs = {}
if os.environ.get("SMTP_TLS_CERT"):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.environ["SMTP_TLS_CERT"], os.environ["SMTP_TLS_KEY"])
    kwargs = dict(tls_context=context, require_starttls=True, auth_required=True, authenticator=authenticator)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(port))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
time.sleep(LIFETIME)
controller.stop()
