"""An aiosmtpd server that misbehaves on request, for Herald's SMTP tests.

The recipient's local part chooses the behaviour:
  defer*      RCPT gets 451 4.3.0          reject*     RCPT gets 550 5.1.1
  full*       RCPT gets 552 5.2.2          hangup*     the connection is dropped at RCPT
  bye*        RCPT gets 421 4.7.0 and the server closes the connection
  slow*       RCPT is answered after --slow seconds
  datadefer*  the end of DATA gets 452     datareject* the end of DATA gets 554 5.7.1
  flaky<N>*   the first N RCPTs of this address get 451 4.3.0, later ones are accepted
  cut<N>*     the first N times, the connection is dropped once the content has arrived
              (before the reply to its final dot); later ones are accepted
  anything else is accepted: "250 2.0.0 Ok: queued as Q<n>".
Options add PIPELINING to EHLO, require AUTH, offer STARTTLS or speak implicit TLS with a
self-signed certificate made by openssl, close idle sessions after --idle seconds, and
write every accepted message to a file of its own in --dump DIR ("msg.<n>", complete once
it appears).
Prints "PORT <n>" once listening, then one "DELIVERED <rcpt> <n> pipelined=<yes|no>
followed=<yes|no>" line per accepted message, where "pipelined" says whether RCPT TO had
already arrived when MAIL FROM was read (the client did not wait for the MAIL reply) and
"followed" whether the next transaction's MAIL FROM had arrived with this content (written
after its final dot, RFC 2920 §3.1), and "SLOW <k>" each time a slow*
recipient starts waiting, k being how many are waiting at that moment.
"""

import argparse
import asyncio
import logging
import os
import re
import ssl
import subprocess
import tempfile
import warnings
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def limited_fault(local, name):
    """The N of a `<name><N>...` local part, or None."""
    match = re.match(name + r"(\d+)", local)
    return int(match.group(1)) if match else None


class Handler:
    def __init__(self, pipelining, slow, dump):
        self.pipelining = pipelining
        self.slow = slow
        self.dump = dump
        self.delivered = 0
        self.slow_waiting = 0
        # How many times each flaky*/cut* address has misbehaved so far.
        self.faults = {}

    def fault_due(self, address, name):
        """Whether this `<name><N>` address still has a fault to show (and counts it)."""
        limit = limited_fault(address.split("@", 1)[0].lower(), name)
        if limit is None:
            return False
        key = (name, address.lower())
        shown = self.faults.get(key, 0)
        if shown >= limit:
            return False
        self.faults[key] = shown + 1
        return True

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Peeks at what the client sent after MAIL FROM: private, but this is a test peer.
        envelope.pipelined = b"RCPT" in bytes(server._reader._buffer)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("defer"):
            return "451 4.3.0 Try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        if local.startswith("full"):
            return "552 5.2.2 Mailbox full"
        if local.startswith("bye"):
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
            return "421 4.7.0 fault-server closing connection"
        if local.startswith("hangup"):
            server.transport.abort()
            return "421 4.3.0 never seen: the connection is gone"
        if self.fault_due(address, "flaky"):
            return "451 4.3.0 Try again later (flaky)"
        if local.startswith("slow"):
            self.slow_waiting += 1
            print(f"SLOW {self.slow_waiting}", flush=True)
            try:
                await asyncio.sleep(self.slow)
            finally:
                self.slow_waiting -= 1
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        local = envelope.rcpt_tos[0].split("@", 1)[0].lower()
        if local.startswith("datadefer"):
            return "452 4.3.1 Insufficient system storage"
        if local.startswith("datareject"):
            return "554 5.7.1 Message rejected as spam"
        if self.fault_due(envelope.rcpt_tos[0], "cut"):
            server.transport.abort()
            return "421 4.3.0 never seen: the connection is gone"
        self.delivered += 1
        if self.dump:
            # Written aside, then renamed: a "msg.*" file is always complete.
            partial = os.path.join(self.dump, f"partial.{self.delivered}")
            with open(partial, "wb") as file:
                file.write(envelope.original_content)
            os.replace(partial, os.path.join(self.dump, f"msg.{self.delivered}"))
        pipelined = "yes" if envelope.pipelined else "no"
        # Whether the next transaction's MAIL FROM came in the same write as this content.
        followed = "yes" if b"MAIL" in bytes(server._reader._buffer) else "no"
        print(f"DELIVERED {envelope.rcpt_tos[0]} {self.delivered} pipelined={pipelined} "
              f"followed={followed}", flush=True)
        return f"250 2.0.0 Ok: queued as Q{self.delivered}"


def tls_context(directory):
    cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def main(args):
    handler = Handler(args.pipelining, args.slow, args.dump)
    options = {"hostname": "fault-server", "timeout": args.idle}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                  and data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    with tempfile.TemporaryDirectory() as directory:
        server_ssl = None
        if args.tls == "starttls":
            options["tls_context"] = tls_context(directory)
        elif args.tls == "implicit":
            server_ssl = tls_context(directory)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, **options), "127.0.0.1", args.port, ssl=server_ssl)
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--auth", help="user:password; AUTH is then required")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--slow", type=float, default=5.0)
    parser.add_argument("--idle", type=float, default=300.0)
    parser.add_argument("--dump", help="a directory for a copy of every accepted message")
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    asyncio.run(main(parser.parse_args()))
