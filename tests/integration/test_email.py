"""Notification emails go through SMTP when it is configured, once each, in the member's language."""

import smtplib
import socketserver
import threading
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from app.core import clock, jobs
from app.notifications.models import Notification
from app.notifications.services import notify


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greet, EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.strip().split(b" ")[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                if self.server.fail_after is not None and len(self.server.messages) >= self.server.fail_after:
                    self.wfile.write(b"451 try again later\r\n")
                    continue
                self.server.messages.append(message_from_bytes(data))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server(app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages, server.fail_after = [], None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1], MAIL_USE_TLS=False)
    try:
        yield server
    finally:
        app.config.update(MAIL_SERVER=None)
        server.shutdown()
        server.server_close()


def test_notifications_are_mailed_once_through_smtp_in_the_members_language(app, session, factory, smtp_server):
    zh = factory.agent()
    en = factory.agent()
    en.locale = "en"
    session.commit()
    notify(session, user_ids=[zh.id, en.id], kind="member.verified", payload={}, now=clock.now())
    session.commit()
    jobs.relay_outbox()
    jobs.run_job_now("notifications.send_emails")  # a second delivery sends nothing more
    by_to = {m["To"]: m for m in smtp_server.messages}
    assert sorted(by_to) == sorted([zh.email, en.email])
    assert "verified" in by_to[en.email].get_payload()
    zh_body = by_to[zh.email].get_payload(decode=True).decode("utf-8")
    assert "verified" not in zh_body and "学院" in zh_body
    assert str(make_header(decode_header(by_to[en.email]["Subject"]))).strip().startswith("Surgeline:")
    assert session.scalar(select(Notification.emailed_at).where(Notification.user_id == zh.id)) is not None


def test_a_failing_smtp_server_leaves_unsent_mail_for_the_next_run_and_resends_nothing(app, session, factory,
                                                                                        smtp_server):
    agents = [factory.agent() for _ in range(3)]
    smtp_server.fail_after = 1
    notify(session, user_ids=[a.id for a in agents], kind="member.verified", payload={}, now=clock.now())
    session.commit()
    session.execute(Notification.__table__.update().values(emailed_at=None))
    session.commit()
    with pytest.raises(smtplib.SMTPDataError):  # the error reaches the job runner (RQ records it)
        jobs.run_job_now("notifications.send_emails")
    session.rollback()
    assert len(smtp_server.messages) == 1
    smtp_server.fail_after = None
    jobs.run_job_now("notifications.send_emails")
    assert len(smtp_server.messages) == 3
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(a.email for a in agents)
