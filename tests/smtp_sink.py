"""An aiosmtpd handler that appends every message it receives to a file, one JSON line
each, for tests that run a real SMTP server process and read what it got:

    python -m aiosmtpd -n -c tests.smtp_sink.Sink <file> -l 127.0.0.1:<port>
"""

from __future__ import annotations

import base64
import json
import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any


class Sink:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> Sink:
        if len(args) != 1:
            parser.error("Sink takes one argument: the file to append messages to")
        return cls(args[0])

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content or envelope.content).decode(),
        }
        line = (json.dumps(record) + "\n").encode()
        # One write of a whole line, so a reader never sees half a message.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return "250 Message accepted for delivery"
