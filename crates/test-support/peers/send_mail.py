"""Sends the message on stdin through SMTP with Python's smtplib (an independent client).

Usage: send_mail.py HOST PORT MAIL_FROM RCPT_TO
Prints one JSON object: {"code": <the server's final reply code>, "message": "..."}:
the reply to DATA when the message was sent, else the reply that refused it.
"""

import json
import smtplib
import sys


def main():
    host, port, mail_from, rcpt_to = sys.argv[1:5]
    message = sys.stdin.buffer.read()
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        smtp.ehlo("peer.test")
        try:
            smtp.mail(mail_from)
            code, reply = smtp.rcpt(rcpt_to)
            if code >= 400:
                result = (code, reply)
            else:
                result = smtp.data(message)
        except smtplib.SMTPResponseException as error:
            result = (error.smtp_code, error.smtp_error)
    code, reply = result
    print(json.dumps({"code": code, "message": reply.decode("utf-8", "replace")}))


if __name__ == "__main__":
    main()
