"""Verifies the DKIM signature of the message on stdin with dkimpy, offline: the DNS TXT
record is given as the first argument and served for any name through `dnsfunc`.
Exits 0 when the signature verifies, 1 when it does not (printing dkimpy's reason)."""

import logging
import sys

import dkim


def main():
    record = sys.argv[1].encode()
    message = sys.stdin.buffer.read()
    log = logging.getLogger("dkim")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    verifier = dkim.DKIM(message, logger=log)
    try:
        ok = verifier.verify(dnsfunc=lambda name, timeout=5: record)
    except dkim.DKIMException as error:
        print(f"dkim error: {error}")
        return 1
    print("pass" if ok else "fail")
    return 0 if ok else 1


sys.exit(main())
