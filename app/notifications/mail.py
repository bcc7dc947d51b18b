"""Sending email: SMTP when MAIL_SERVER is configured, the log otherwise (embedded mode and tests)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

log = logging.getLogger(__name__)


class LogMailer:
    """Writes each message to the log: the default without an SMTP server."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, to: str, subject: str, body: str) -> None:
        log.info("email to %s: %s — %s", to, subject, body)


class SmtpMailer:
    """One SMTP connection for a batch of messages (STARTTLS and login when configured)."""

    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, use_tls: bool = False, timeout: float = 10.0):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.use_tls, self.timeout = username, password, use_tls, timeout
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self):
        self.smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            self.smtp.starttls()
        if self.username:
            self.smtp.login(self.username, self.password or "")
        return self

    def __exit__(self, *exc):
        try:
            self.smtp.quit()
        except smtplib.SMTPException:
            pass
        return False

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"] = make_msgid(domain="surgeline")
        message.set_content(body)
        self.smtp.send_message(message)


def mailer_from_config(config) -> LogMailer | SmtpMailer:
    if not config.get("MAIL_SERVER"):
        return LogMailer()
    return SmtpMailer(host=config["MAIL_SERVER"], port=config["MAIL_PORT"], sender=config["MAIL_FROM"],
                      username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
                      use_tls=config.get("MAIL_USE_TLS", False))
