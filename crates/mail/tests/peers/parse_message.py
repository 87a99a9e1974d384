"""Parses a message from stdin with Python's `email` package (policy=default) and prints
what herald-mail's tests check, as JSON: every defect (message, parts and headers), the
decoded headers, the addresses, and each leaf part's type, transfer encoding and content."""

import email
import email.policy
import json
import sys


def addresses(header):
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def main():
    message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
    defects = []
    headers = {}
    for part in message.walk():
        defects += [f"{type(d).__name__}: {d}" for d in part.defects]
        for name, value in part.items():
            defects += [f"{name}: {type(d).__name__}: {d}" for d in getattr(value, "defects", ())]
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    parts = [
        {
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        }
        for part in message.walk()
        if not part.is_multipart()
    ]
    json.dump(
        {
            "defects": defects,
            "content_type": message.get_content_type(),
            "headers": headers,
            "from": addresses(message["From"]),
            "to": addresses(message["To"]),
            "reply_to": addresses(message["Reply-To"]),
            "parts": parts,
        },
        sys.stdout,
        ensure_ascii=False,
    )


main()
