"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives.

``SmtpSink`` can refuse: ``refuse_next(n, code)`` answers the next n messages with a
temporary (4xx) or permanent (5xx) error, and ``delay`` makes every message take that long.
"""

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    delay: float = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.refusals:
                return self.refusals.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self.arrived.notify_all()
        return "250 OK"


class SmtpSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = _Handler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)

    def refuse_next(self, n: int, answer: str = "451 4.3.0 Try again later") -> None:
        with self.handler.lock:
            self.handler.refusals.extend([answer] * n)

    @property
    def delay(self) -> float:
        return self.handler.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.handler.delay = seconds

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Waits until at least ``count`` messages arrived (or the timeout passed)."""
        with self.handler.arrived:
            self.handler.arrived.wait_for(lambda: len(self.handler.received) >= count,
                                          timeout=timeout)
        return self.received

    def mail_to(self, to: str, subject: str = "", timeout: float = 15) -> Received:
        """The newest message to ``to`` whose subject contains ``subject``, waiting for it."""
        def found() -> Received | None:
            return next((m for m in reversed(self.handler.received)
                         if m.to == to and subject in m.subject), None)

        with self.handler.arrived:
            self.handler.arrived.wait_for(lambda: found() is not None, timeout=timeout)
            message = found()
        assert message is not None, f"no mail to {to} about {subject!r} arrived"
        return message

    def settings(self) -> dict:
        """The GIAIBAO_SMTP_* settings that point at this sink."""
        return {"smtp_host": "127.0.0.1", "smtp_port": self.port}
