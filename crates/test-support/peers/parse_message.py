"""Parses a message from stdin with Python's `email` package (policy=default) and prints
what Herald's tests check, as JSON: every defect (message, parts and headers), the
decoded headers, the addresses, and each leaf part's type, transfer encoding and content.

Given file names instead, it parses each file and prints one such JSON object per line,
in the order given (thousands of messages at once, parsed on every CPU)."""

import email
import email.policy
import json
import multiprocessing
import sys


def addresses(header):
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def describe(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = []
    headers = {}
    for part in message.walk():
        defects += [f"{type(d).__name__}: {d}" for d in part.defects]
        # Each header is parsed once (the policy parses on every access).
        for name, value in part.items():
            defects += [f"{name}: {type(d).__name__}: {d}" for d in getattr(value, "defects", ())]
            if part is message:
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
    return {
        "defects": defects,
        "content_type": message.get_content_type(),
        "headers": headers,
        "from": addresses(message["From"]),
        "to": addresses(message["To"]),
        "reply_to": addresses(message["Reply-To"]),
        "parts": parts,
    }


def main():
    if len(sys.argv) == 1:
        json.dump(describe(sys.stdin.buffer.read()), sys.stdout, ensure_ascii=False)
        return
    with multiprocessing.Pool() as pool:
        for described in pool.imap(describe_file, sys.argv[1:], chunksize=64):
            json.dump(described, sys.stdout, ensure_ascii=False)
            sys.stdout.write("\n")


def describe_file(name):
    with open(name, "rb") as file:
        return describe(file.read())


if __name__ == "__main__":
    main()
