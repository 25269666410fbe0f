"""Delivering a message: over SMTP when SMTP_URL is set, else as an .eml file under instance/outbox/."""
import os
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses
from urllib.parse import parse_qs, unquote, urlsplit


class TransportError(Exception):
    """The message could not be handed over; the send job retries it."""


def deliver(message: EmailMessage, *, smtp_url: str | None, outbox_dir: str, timeout: float = 20,
            before_handover: Callable[[], None] = lambda: None) -> None:
    """Hand ``message`` to the SMTP server in ``smtp_url``, or write it to ``outbox_dir`` when there is none.

    ``before_handover`` runs once the server has accepted the sender and recipients, just before the message
    itself is sent: a process that dies before that point has certainly not delivered it.

    smtp://user:password@host:587?starttls=true  (STARTTLS; the default on port 587)
    smtps://user:password@host:465               (TLS from the start)
    """
    if not smtp_url:
        before_handover()
        _write_eml(message, outbox_dir)
        return
    url = urlsplit(smtp_url)
    try:
        port = url.port or (465 if url.scheme == "smtps" else 587)
    except ValueError as error:
        raise TransportError(f"SMTP_URL has a bad port: {error}") from error
    if url.scheme not in ("smtp", "smtps") or not url.hostname:
        raise TransportError(f"SMTP_URL must look like smtp://user:password@host:port, not {url.scheme}://…")
    options = {key: values[-1].lower() for key, values in parse_qs(url.query).items()}
    starttls = options.get("starttls", "true" if port == 587 else "false") in ("1", "true", "yes")
    try:
        if url.scheme == "smtps":
            client = smtplib.SMTP_SSL(url.hostname, port, timeout=timeout, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(url.hostname, port, timeout=timeout)
        try:
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            _send(client, message, before_handover)
        except BaseException:
            client.close()
            raise
    except (OSError, smtplib.SMTPException) as error:
        raise TransportError(f"{type(error).__name__}: {error}") from error
    try:  # the message is handed over: a failed goodbye must not make it look unsent
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _send(client: smtplib.SMTP, message: EmailMessage, before_handover: Callable[[], None]) -> None:
    """smtplib's send_message in its three steps (MAIL, RCPT, DATA), with ``before_handover`` before DATA."""
    sender = getaddresses([message["Sender"] or message["From"]])[0][1]
    recipients = [address for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    international = any(not address.isascii() for address in [sender, *recipients])
    client.ehlo_or_helo_if_needed()
    options = []
    if international:
        if not client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the server does not take non-ASCII addresses (SMTPUTF8)")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    code, reply = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for address in recipients:
        code, reply = client.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    if len(refused) == len(recipients):
        raise smtplib.SMTPRecipientsRefused(refused)
    before_handover()
    code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n", utf8=international)))
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _write_eml(message: EmailMessage, outbox_dir: str) -> None:
    os.makedirs(outbox_dir, exist_ok=True)
    name = message["Message-ID"].strip("<>").replace("@", "_at_").replace("/", "_")
    path = os.path.join(outbox_dir, f"{name}.eml")
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(bytes(message))
    os.replace(temporary, path)
