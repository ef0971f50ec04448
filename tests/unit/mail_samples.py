"""Builders of realistic raw inbound messages for the classifier tests.

Everything here was written for coldflow: the DSNs follow the shapes Postfix, Exchange/Office 365,
Gmail and Exim produce (field names and layout per RFC 3464), with invented hosts and addresses.
Builders return ``bytes`` exactly as an IMAP FETCH of the whole message would.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

OUR_INBOX = "sam@northwind.test"
OUR_NAME = "Sam Rivera"
LEAD = "jane@acme.test"
SENT_ID = "<cf.3kq7x2m9p4r8t1v6w0y5z3a2b@northwind.test>"

# The cold email coldflow sent; replies quote it. Its footer holds the word "unsubscribe" and its
# pitch holds "interested" and "call", so a reply whose quote is not stripped is misclassified.
ORIGINAL_TEXT = """Hi Jane,

Noticed Acme is hiring three SDRs this quarter. Teams like yours use Northwind to book more
meetings without adding headcount.

Would you be interested in a quick 15-minute call next week to see if it fits? Happy to send
pricing and a case study too.

Best,
Sam

Not interested? Unsubscribe: https://go.northwind.test/u/01HQZ3K7
Remove me from this list: reply "stop"."""

QUOTE_STYLES = ("gmail", "gmail_wrapped", "outlook", "apple", "german")


def quoted(style: str, original: str = ORIGINAL_TEXT) -> str:
    """The quoted history a mail client appends below a reply, in the given client's style."""
    prefixed = "\n".join(f"> {line}" if line else ">" for line in original.splitlines())
    if style == "gmail":
        return f"On Tue, Mar 5, 2024 at 9:14 AM {OUR_NAME} <{OUR_INBOX}> wrote:\n\n{prefixed}\n"
    if style == "gmail_wrapped":
        # Gmail wraps a long attribution line; the "wrote:" lands on the next line.
        return f"On Tue, Mar 5, 2024 at 9:14 AM {OUR_NAME} <\n{OUR_INBOX}> wrote:\n\n{prefixed}\n"
    if style == "outlook":
        return (
            "________________________________\n"
            f"From: {OUR_NAME} <{OUR_INBOX}>\n"
            "Sent: Tuesday, March 5, 2024 9:14 AM\n"
            f"To: Jane Doe <{LEAD}>\n"
            "Subject: Quick question about SDR hiring\n\n"
            f"{original}\n"
        )
    if style == "apple":
        return (
            "Sent from my iPhone\n\n"
            f"> On Mar 5, 2024, at 9:14 AM, {OUR_NAME} <{OUR_INBOX}> wrote:\n>\n{prefixed}\n"
        )
    if style == "german":
        return f"Am 05.03.2024 um 09:14 schrieb {OUR_NAME} <{OUR_INBOX}>:\n\n{prefixed}\n"
    raise ValueError(style)


def reply(
    body: str,
    *,
    subject: str = "Re: Quick question about SDR hiring",
    sender: str = f"Jane Doe <{LEAD}>",
    headers: tuple[tuple[str, str], ...] = (),
    quote: str | None = None,
    html: bool = False,
    charset: str = "utf-8",
) -> bytes:
    """A reply to our cold email: threaded, optionally quoting it, plain text or HTML only."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"{OUR_NAME} <{OUR_INBOX}>"
    message["Subject"] = subject
    message["Date"] = "Wed, 06 Mar 2024 08:02:11 +0100"
    message["Message-ID"] = "<CAF=reply.7781@mail.acme.test>"
    message["In-Reply-To"] = SENT_ID
    message["References"] = SENT_ID
    for name, value in headers:
        message[name] = value
    text = body if quote is None else f"{body}\n\n{quoted(quote)}"
    if html:
        message.set_content(_as_html(body, quote), subtype="html", charset=charset)
    else:
        message.set_content(text, charset=charset)
    return message.as_bytes(policy=SMTP)


def _as_html(body: str, quote: str | None) -> str:
    paragraphs = "".join(f"<div>{line or '<br>'}</div>" for line in body.splitlines())
    if quote is None:
        return f"<html><body>{paragraphs}</body></html>"
    original = "<br>".join(ORIGINAL_TEXT.splitlines())
    return (
        f'<html><body><div dir="ltr">{paragraphs}</div><br><div class="gmail_quote">'
        f'<div dir="ltr" class="gmail_attr">On Tue, Mar 5, 2024 at 9:14 AM {OUR_NAME} &lt;'
        f'<a href="mailto:{OUR_INBOX}">{OUR_INBOX}</a>&gt; wrote:<br></div>'
        f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">{original}'
        '<br><a href="https://go.northwind.test/u/01HQZ3K7">Unsubscribe</a></blockquote>'
        "</div></body></html>"
    )


def _returned_headers() -> str:
    return (
        f"Return-Path: <{OUR_INBOX}>\n"
        f"From: {OUR_NAME} <{OUR_INBOX}>\n"
        "To: Jane Doe <jane@acme.test>\n"
        "Subject: Quick question about SDR hiring\n"
        "Date: Tue, 05 Mar 2024 09:14:02 +0100\n"
        f"Message-ID: {SENT_ID}\n"
        "MIME-Version: 1.0\n"
    )


def postfix_dsn(
    *,
    status: str = "5.1.1",
    action: str = "failed",
    recipient: str = "jane@acme.test",
    diagnostic: str = "smtp; 550 5.1.1 <jane@acme.test>: Recipient address rejected: User\n"
    "    unknown in virtual mailbox table",
) -> bytes:
    """Postfix's bounce: multipart/report with the whole returned message (message/rfc822)."""
    subject = (
        "Undelivered Mail Returned to Sender"
        if action == "failed"
        else "Delayed Mail (still being retried)"
    )
    return f"""Return-Path: <>
Received: by mx1.northwind.test (Postfix) id 4TqL2b0RZ9z9sW6; Tue,  5 Mar 2024 09:14:05 +0100
Date: Tue,  5 Mar 2024 09:14:05 +0100 (CET)
From: MAILER-DAEMON@mx1.northwind.test (Mail Delivery System)
Subject: {subject}
To: {OUR_INBOX}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4TqL2b0RZ9z9sW6.1709626445/mx1.northwind.test"
Message-Id: <20240305081405.4TqL2b0RZ9z9sW6@mx1.northwind.test>

This is a MIME-encapsulated message.

--4TqL2b0RZ9z9sW6.1709626445/mx1.northwind.test
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.northwind.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{recipient}>: host mx.acme.test[203.0.113.7] said: {diagnostic.split("; ", 1)[-1]}

--4TqL2b0RZ9z9sW6.1709626445/mx1.northwind.test
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.northwind.test
X-Postfix-Queue-ID: 4TqL2b0RZ9z9sW6
X-Postfix-Sender: rfc822; {OUR_INBOX}
Arrival-Date: Tue,  5 Mar 2024 09:14:02 +0100 (CET)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.acme.test
Diagnostic-Code: {diagnostic}

--4TqL2b0RZ9z9sW6.1709626445/mx1.northwind.test
Content-Description: Undelivered Message
Content-Type: message/rfc822

{_returned_headers()}Content-Type: text/plain; charset="utf-8"

{ORIGINAL_TEXT}

--4TqL2b0RZ9z9sW6.1709626445/mx1.northwind.test--
""".encode()


def exchange_dsn() -> bytes:
    """Office 365's NDR: HTML explanation, 5.1.10 status, returned headers (text/rfc822-headers)."""
    return f"""From: postmaster@acme.onmicrosoft.test
To: {OUR_INBOX}
Date: Tue, 5 Mar 2024 08:14:06 +0000
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="b5c2e1f0-9d7a-4a33-8f0e-1c2d3e4f5a6b"
MIME-Version: 1.0
Message-ID: <0f3e1d2c-aaaa-4bbb-8ccc-ddddeeeeffff@DM6PR01MB1234.namprd01.prod.outlook.test>
In-Reply-To: {SENT_ID}
References: {SENT_ID}
Subject: Undeliverable: Quick question about SDR hiring
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:

--b5c2e1f0-9d7a-4a33-8f0e-1c2d3e4f5a6b
Content-Type: multipart/alternative; boundary="alt-7f1e"

--alt-7f1e
Content-Type: text/plain; charset="us-ascii"

Your message to jane@acme.test couldn't be delivered.
jane wasn't found at acme.test.

--alt-7f1e
Content-Type: text/html; charset="us-ascii"

<html><body><p>Your message to <b>jane@acme.test</b> couldn't be delivered.</p>
<p>jane wasn't found at acme.test.</p></body></html>

--alt-7f1e--

--b5c2e1f0-9d7a-4a33-8f0e-1c2d3e4f5a6b
Content-Type: message/delivery-status

Reporting-MTA: dns;DM6PR01MB1234.namprd01.prod.outlook.test
Received-From-MTA: dns;mx1.northwind.test
Arrival-Date: Tue, 5 Mar 2024 08:14:03 +0000

Original-Recipient: rfc822;jane@acme.test
Final-Recipient: rfc822;jane@acme.test
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP
 address lookup

--b5c2e1f0-9d7a-4a33-8f0e-1c2d3e4f5a6b
Content-Type: text/rfc822-headers

{_returned_headers()}
--b5c2e1f0-9d7a-4a33-8f0e-1c2d3e4f5a6b--
""".encode()


def gmail_dsn(*, failure: bool = True) -> bytes:
    """Gmail's "Delivery Status Notification": no Original-Recipient, returned message attached."""
    kind, action, status, code = (
        (
            "Failure",
            "failed",
            "5.2.1",
            "550 5.2.1 The email account that you tried to reach is disabled",
        )
        if failure
        else (
            "Delay",
            "delayed",
            "4.2.2",
            "452 4.2.2 The email account that you tried to reach is over quota",
        )
    )
    return f"""Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {OUR_INBOX}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification ({kind})
Date: Tue, 05 Mar 2024 00:14:06 -0800 (PST)
Message-ID: <65e6d4de.050a0220.bd7f2.9a31.GMR@mx.google.test>
MIME-Version: 1.0
Content-Type: multipart/report; boundary="000000000000a1b2c3"; report-type=delivery-status

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"


** Address not found **

Your message wasn't delivered to jane@acme.test because the address couldn't be found, or is
unable to receive mail.

The response from the remote server was:
{code}

--000000000000a1b2c3
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Tue, 05 Mar 2024 00:14:03 -0800 (PST)
X-Original-Message-ID: {SENT_ID}

Final-Recipient: rfc822; jane@acme.test
Action: {action}
Status: {status}
Remote-MTA: dns; mx.acme.test. (203.0.113.7, the server for the domain acme.test.)
Diagnostic-Code: smtp; {code}
Last-Attempt-Date: Tue, 05 Mar 2024 00:14:06 -0800 (PST)

--000000000000a1b2c3
Content-Type: message/rfc822

{_returned_headers()}Content-Type: text/plain; charset="utf-8"

{ORIGINAL_TEXT}
--000000000000a1b2c3--
""".encode()


def exim_plain_bounce(*, code: str = "550 5.1.1", temporary: bool = False) -> bytes:
    """An Exim-style bounce with no multipart/report: everything is in the text."""
    problem = (
        "Mail delivery failed: returning message to sender"
        if not temporary
        else "Warning: message 1rhP2x-0003Ab-QZ delayed 24 hours"
    )
    verdict = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:"
        if not temporary
        else "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue. The following address(es) are delayed:"
    )
    return f"""Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mail.hosting.test>
To: {OUR_INBOX}
Subject: {problem}
Message-Id: <E1rhP3c-0003Bd-7K@mail.hosting.test>
Date: Tue, 05 Mar 2024 08:14:09 +0000
X-Failed-Recipients: bob@globex.test
Auto-Submitted: auto-replied

{verdict}

  bob@globex.test
    host mx.globex.test [198.51.100.4]
    SMTP error from remote mail server after RCPT TO:<bob@globex.test>:
    {code} No such user here

------ This is a copy of the message, including all the headers. ------

Return-path: <{OUR_INBOX}>
From: {OUR_NAME} <{OUR_INBOX}>
To: bob@globex.test
Subject: Quick question about SDR hiring
Message-ID: {SENT_ID}

{ORIGINAL_TEXT}
""".encode()


def qmail_bounce() -> bytes:
    """qmail's "failure notice": no headers beyond From/Subject, the address in angle brackets."""
    return f"""From: MAILER-DAEMON@smtp.initech.test
To: {OUR_INBOX}
Subject: failure notice
Date: 5 Mar 2024 08:14:10 -0000

Hi. This is the qmail-send program at smtp.initech.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<peter@initech.test>:
198.51.100.9 does not like recipient.
Remote host said: 550 mailbox unavailable
Giving up on 198.51.100.9.

--- Below this line is a copy of the message.

Return-Path: <{OUR_INBOX}>
Message-ID: {SENT_ID}
From: {OUR_INBOX}
To: peter@initech.test
Subject: Quick question about SDR hiring

{ORIGINAL_TEXT}
""".encode()


def read_receipt() -> bytes:
    """A read receipt (RFC 8098 message disposition notification)."""
    return f"""From: Jane Doe <jane@acme.test>
To: {OUR_INBOX}
Subject: Read: Quick question about SDR hiring
Date: Wed, 06 Mar 2024 08:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"

--mdn
Content-Type: text/plain

Your message was read on Wednesday, March 6, 2024 8:00:00 AM.

--mdn
Content-Type: message/disposition-notification

Reporting-UA: mail.acme.test; Microsoft Exchange Server
Final-Recipient: rfc822;jane@acme.test
Original-Message-ID: {SENT_ID}
Disposition: automatic-action/MDN-sent-automatically; displayed

--mdn--
""".encode()


def auto_reply(
    body: str,
    *,
    subject: str = "Automatic reply: Quick question about SDR hiring",
    headers: tuple[tuple[str, str], ...] = (("Auto-Submitted", "auto-replied"),),
    charset: str = "utf-8",
) -> bytes:
    """An auto-response (RFC 3834) from the lead's mailbox."""
    return reply(body, subject=subject, headers=headers, charset=charset)


def multipart_reply_with_attachment(body: str) -> bytes:
    """A plain+HTML reply with a PDF attached, as a desktop client sends it."""
    message = EmailMessage()
    message["From"] = f"Jane Doe <{LEAD}>"
    message["To"] = OUR_INBOX
    message["Cc"] = "Mark Lee <mark@acme.test>, ops@acme.test"
    message["Subject"] = "Re: Quick question about SDR hiring"
    message["Date"] = "Wed, 06 Mar 2024 08:02:11 +0100"
    message["Message-ID"] = "<att.1@mail.acme.test>"
    message["In-Reply-To"] = SENT_ID
    message["References"] = f"<older@northwind.test> {SENT_ID}"
    message.set_content(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    message.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="requirements.pdf"
    )
    return message.as_bytes(policy=SMTP)
