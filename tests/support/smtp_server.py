"""A real SMTP server for the tests (aiosmtpd, from PyPI; scripts/test installs it).

Writes one JSON line per message it accepts to --out: envelope sender and recipients, the
Message-ID, the subject, and the raw message. It can be made to fail: --fail-first N answers the
first N messages with 451 (try again later); --hold-first N waits --hold-seconds after the RCPT
of each of the first N connections before answering, so that a test can stop the client in the
middle of a send. Prints "ready <port>" when it listens.
"""

import argparse
import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, out, fail_first, hold_first, hold_seconds):
        self.out = out
        self.fail_left = fail_first
        self.hold_left = hold_first
        self.hold_seconds = hold_seconds

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold_left > 0:
            self.hold_left -= 1
            print("holding", flush=True)
            await asyncio.sleep(self.hold_seconds)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 Requested action aborted: try again later"
        raw = envelope.content.decode("utf8", errors="replace")
        parsed = email.message_from_string(raw, policy=email.policy.default)
        text, html = "", ""
        for part in parsed.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_content()
            elif part.get_content_type() == "text/html":
                html = part.get_content()
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "message_id": parsed.get("Message-ID", ""),
            "subject": str(parsed.get("Subject", "")),
            "list_unsubscribe": str(parsed.get("List-Unsubscribe", "")),
            "list_unsubscribe_post": str(parsed.get("List-Unsubscribe-Post", "")),
            "text": text,
            "html": html,
        }
        with open(self.out, "a", encoding="utf8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--hold-first", type=int, default=0)
    p.add_argument("--hold-seconds", type=float, default=0)
    a = p.parse_args()
    handler = Recorder(a.out, a.fail_first, a.hold_first, a.hold_seconds)
    controller = Controller(handler, hostname="127.0.0.1", port=a.port)
    controller.start()
    print(f"ready {a.port}", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
