"""The pattern tables behind ``coldflow.classify`` and the text functions built on them.

Quoted-history stripping (``latest_reply_text``), bounce, auto-reply and unsubscribe patterns,
the weighted label rules (``best_label``) and out-of-office return dates. Pure, like its caller.
Patterns are case-insensitive. Each label rule has a comment saying what it is there to catch:
read it before changing a rule that misfires.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product

_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE

# --- Quoted history and signatures (latest_reply_text) ----------------------------------------
# An attribution line ("On <date> <name> wrote:") in the languages our leads write in. Gmail
# wraps long ones, so callers also test a line joined with the next one.
QUOTE_ATTRIBUTION = re.compile(
    r"^\s*(?:on|am|le|el|op|il|den|em)\s.{4,300}?\b"
    r"(?:wrote|schrieb|a\s+écrit|escribió|schreef|ha\s+scritto|skrev|escreveu)\b.{0,150}:\s*$",
    _I | re.DOTALL,
)
QUOTE_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|"
    r"message d'origine|mensaje original|messaggio originale)\s*-{2,}|_{8,})\s*$",
    _I,
)
# Outlook's quoted header block: "From: …" followed within three lines by "Sent: …"/"Date: …".
OUTLOOK_FROM = re.compile(r"^\s*\**(?:from|de|von|van|da)\s*:\**\s*\S", _I)
OUTLOOK_SENT = re.compile(
    r"^\s*\**(?:sent|date|envoyé|gesendet|datum|enviado|verzonden|inviato)\s*:\**\s*\S", _I
)
# RFC 3676 §4.3: "-- " alone on a line opens the signature; mobile clients add their own tag.
SIGNATURE = re.compile(
    r"^\s*(?:--\s*|sent from my\b.*|get outlook for\b.*|sent from outlook\b.*|"
    r"envoyé de mon\b.*|von meinem\b.*gesendet.*)$",
    _I,
)

# --- Bounces (RFC 3464 and the mailer daemons that predate it) --------------------------------
DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
BOUNCE_SUBJECT = re.compile(
    r"undeliver|returned mail|returned to sender|delivery status notification|"
    r"delivery (?:has )?fail|mail delivery fail|delivery failure|failure notice|"
    r"could not be delivered|non remis|unzustellbar|nicht zustellbar|delayed mail|"
    r"delivery delayed|message delayed|warning: message .* delayed",
    _I,
)
# Where a daemon starts quoting the message it returns; analysis stops there.
RETURNED_COPY = re.compile(
    r"^.*(?:copy of the (?:message|original)|below this line|original message follows|"
    r"returned message|undelivered message|message headers follow).*$",
    _IM,
)
BOUNCE_PHRASES = re.compile(
    r"could(?: not|n't) be delivered|permanent error|delivery (?:has )?failed|undeliverable|"
    r"user unknown|no such user",
    _I,
)
ENHANCED_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")  # RFC 3463
SMTP_REPLY_CODE = re.compile(r"(?:^|said:|error:?|response:?|reply:?|code:?|;)\s*([45])\d\d\b", _IM)
SOFT_PHRASES = re.compile(
    r"\b(?:delayed|temporar(?:y|ily)|will (?:be )?retr(?:y|ied)|still (?:be(?:ing)? )?"
    r"(?:trying|retried)|not yet been delivered|over quota|mailbox (?:is )?full)\b",
    _I,
)
FAILED_ADDRESS = re.compile(
    r"<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>\s*:|"
    r"(?:message to|delivered to|deliver(?:y)? to|following address(?:es)?(?: failed)?:?|"
    r"recipient(?: address)?:?|failed permanently:?)\s*<?([\w.+'-]+@[\w-]+(?:\.[\w-]+)+)",
    _I,
)
EMAIL_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
MESSAGE_ID_HEADER = re.compile(r"^message-id:\s*(<[^<>\s]+>)", _IM)

# --- Auto-replies (RFC 3834 and out-of-office conventions) ------------------------------------
AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
OOO_SUBJECT = re.compile(
    r"automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|out of (?:the )?office|"
    r"\booo\b|abwesenheit|automatische antwort|réponse automatique|\babsen(?:ce|t)\b|"
    r"respuesta automática|fuera de la oficina|risposta automatica|fuori sede|afwezig|"
    r"automatisch antwoord|\bon (?:vacation|holiday|leave)\b",
    _I,
)
# Each entry is one kind of evidence; a message without auto-reply headers needs two kinds
# (one human "I'm on vacation until the 5th, let's talk after" has only one).
OOO_BODY: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, _I)
    for pattern in (
        r"\bout of (?:the )?office\b|\booo\b",
        r"\b(?:on|taking) (?:annual |parental |maternity |paternity |sick |medical )?"
        r"(?:vacation|holidays?|leave|pto|sabbatical)\b",
        r"\b(?:currently|presently) (?:away|out|travell?ing|unavailable|on)\b|"
        r"\baway from (?:my desk|the office|e-?mail)\b|\b(?:i am|i'm) (?:travell?ing|away)\b",
        r"\b(?:limited|no|intermittent) access to (?:my )?e-?mails?\b|"
        r"\bnot (?:checking|reading) (?:my )?e-?mails?\b",
        r"\b(?:upon|on|after) my return\b|\bwhen i(?:'m| am)? (?:back|return)\b|"
        r"\b(?:will be|i'll be|i am|i'm) back\b|\bback in the office\b|\breturning on\b",
        r"\bfor urgent\b|\burgent (?:matters|requests|enquiries|inquiries)\b|\bin the meantime\b",
        r"\bautomatic(?:ally generated)? (?:reply|response|message)\b|\bauto-?reply\b",
        r"\bthank(?:s| you) for your (?:e-?mail|message|note)\b",
        r"\babwesend\b|\bnicht im büro\b|\burlaub\b|\bkeinen zugriff\b|\bin dringenden fällen\b",
        r"\babsente?\b|\bcongés?\b|\bà mon retour\b|\bfuera de la oficina\b|\bde vacaciones\b",
    )
)

# --- Unsubscribe requests (only ever run on the latest reply text) ----------------------------
UNSUBSCRIBE = re.compile(
    r"\bunsub(?:scribe)?\b|"
    r"\bremove (?:me|us|my (?:e-?mail|address|details|name|contact))\b|"
    r"\btake (?:me|us|my (?:e-?mail|address|name)) off\b|\bget (?:me )?off (?:this|your|the) "
    r"(?:mailing )?list\b|"
    r"\b(?:stop|quit) (?:e-?mailing|contacting|messaging|spamming|writing|sending)\b|"
    r"\b(?:do not|don'?t|never) (?:e-?mail|contact|message|write to) (?:me|us)\b|"
    r"\bopt(?:[- ]?me)?[- ]out\b|\bdelete my (?:details|data|information|e-?mail|address)\b|"
    r"\bno more e-?mails\b|\bkeine (?:weiteren )?(?:e-?mails|nachrichten)\b|\babmelden\b|"
    r"\baustragen\b|\bdésabonner\b|\bdésinscri|\bne plus (?:recevoir|me contacter)\b|"
    r"\bdarme de baja\b",
    _I,
)
# Our own footer asks for a reply of "stop": a message that is only that word is a request.
BARE_STOP = re.compile(r"^\s*(?:please\s+)?(?:stop|unsubscribe|remove(?: me)?)[\s.!]*$", _I)
URL = re.compile(r"https?://|www\.", _I)
REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|fw|fwd|wg|tr)\s*:\s*)+", _I)


def latest_reply_text(text: str) -> str:
    """What the sender wrote in this message: quoted history, attributions and signature removed.

    Cuts at the first attribution ("On … wrote:", "Am … schrieb …:", also wrapped over two
    lines), "-----Original Message-----", an Outlook "From:/Sent:" block or its underscore rule,
    and a signature or "Sent from my iPhone" line; drops lines quoted with ">". When nothing is
    above the quote (bottom-posting) it keeps the unquoted lines after it instead.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = next((i for i in range(len(lines)) if _starts_history(lines, i)), len(lines))
    latest = _unquoted(lines[:cut])
    if not latest and cut < len(lines):
        rest = range(cut + 1, len(lines))
        latest = _unquoted([lines[i] for i in rest if not _starts_history(lines, i)])
    return latest


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index]
    if QUOTE_SEPARATOR.match(line) or SIGNATURE.match(line):
        return True
    if OUTLOOK_FROM.match(line) and any(
        OUTLOOK_SENT.match(a) for a in lines[index + 1 : index + 4]
    ):
        return True
    if line.lstrip().startswith(">"):
        return False
    two_lines = " ".join(lines[index : index + 2])
    return bool(QUOTE_ATTRIBUTION.match(line) or QUOTE_ATTRIBUTION.match(two_lines))


def _unquoted(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not line.lstrip().startswith(">")).strip()


def out_of_office_evidence(text: str) -> int:
    """How many kinds of out-of-office phrase ``text`` contains."""
    return sum(1 for pattern in OOO_BODY if pattern.search(text))


def is_unsubscribe_request(subject: str, latest: str) -> bool:
    """An opt-out request in the subject ("unsubscribe", as our mailto link sends) or text."""
    if BARE_STOP.match(REPLY_PREFIX.sub("", subject)) or BARE_STOP.match(latest):
        return True
    # Lines with a link are footers (ours quoted inline, or theirs), never a request.
    return any(UNSUBSCRIBE.search(line) for line in latest.splitlines() if not URL.search(line))


# --- Reply labels -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    weight: int
    pattern: re.Pattern[str]


# Ties go to the label earlier here: facts about the lead (gone, someone else's job) beat
# sentiment, and the cautious reading (not_interested) beats the hopeful one.
PRIORITY = (
    *("left_company", "referral", "wrong_person", "meeting_requested", "needs_more_info"),
    *("not_interested", "interested", "question", "neutral"),
)
_NOT = r"(?<!not )(?<!n't )(?<!no )"
# (weight, pattern) per label; the comment above each rule says what it is there to catch.
_TABLE: dict[str, tuple[tuple[int, str], ...]] = {
    # The lead's address now reaches someone else, or no one.
    "left_company": (
        # The standard phrasing of humans and of departed-employee auto-responders.
        (5, r"\bno longer (?:with|at|works?|working|employed|part of|in use|active)\b"),
        (5, r"\b(?:left|departed) (?:the |our )?(?:company|organi[sz]ation|firm|business)\b"),
        # "I left Acme in January", but not "I left you a voicemail".
        (3, r"\b(?:i|she|he|they|has|have) (?:left|departed) (?!you|a |me|my|your|it)\w"),
        (4, r"\b(?:does|do)(?:n'?t| not) work (?:here|there|for)|\bwork\w* here any ?more\b"),
        (4, r"\b(?:not|n't) (?:at|with|working (?:at|for)) [\w&.' -]{1,30} any ?more\b"),
        # The lead announcing a move rather than stating a departure.
        (4, r"\b(?:moved on from|changed jobs|retired|have joined|now at|new (?:role|job) at)\b"),
        (4, r"\bmoved to (?:a |an )?(?:different|another|new|other) (?:company|job|role|employer)"),
        (4, r"\b(?:former|ex-)(?:employee|colleague)\b|\bisn'?t with us\b"),
        (2, r"\bmailbox (?:is )?(?:no longer|not) (?:monitored|checked)\b"),
    ),
    # The lead points at someone else by name, role or address.
    "referral": (
        # Handing the thread on.
        (4, r"\bforward(?:ed|ing)?\b.{0,40}\bto\b|\bpass\w* (?:this|it|your \w+) (?:on )?to\b"),
        (4, r"\bi'll forward\b|\bcc'?(?:ing|'?d)\b|\bcop(?:y|ied|ying) (?:in|him|her|them)\b"),
        (4, r"\bloop(?:ing|ed)? in\b|\badd(?:ing|ed)? (?:my )?(?:colleague|\w+ (?:who|from))\b"),
        # An instruction to contact another person.
        (3, r"\b(?:talk|speak|reach out|get in touch|write) (?:to|with)\b|\bplease contact\b"),
        (3, r"\btry (?:contacting|reaching|emailing)\b|\b(?:contact|reach) (?:him|her|them)\b"),
        # Naming who owns the topic.
        (3, r"\b(?:he|she|they|who)(?:'s| is| are)? (?:handles?|runs?|owns?|looks? after)\b"),
        (3, r"\b(?:he|she|they|who)(?:'s| is| are)? (?:manages?|leads?|in charge|responsible)\b"),
        (3, r"\b(?:the )?(?:best|right) person (?:is|would be|to)\b|\bis (?:who|the one) you want"),
        (3, r"\bthe person you want\b|\b(?:his|her|their) (?:e-?mail|address|number) is\b"),
        # Phrases that close a hand-over.
        (2, r"\bover to you\b|\binstead\b|\bdecision[- ]maker\b.{0,30}\bis\b"),
        (2, r"\b(?:expect to|you'?ll|you will) hear from (?:him|her|them)\b"),
        (1, r"[\w.+'-]+@[\w-]+\.[\w.-]+"),
    ),
    # Not theirs to answer, and no one named.
    "wrong_person": (
        (4, r"\bn(?:o|')t (?:the )?(?:right|correct|best|appropriate) (?:person|contact|one)\b"),
        (4, r"\bnot the (?:right|correct) (?:inbox|address|e-?mail|team|department)\b"),
        (4, r"\bwrong (?:person|contact|guy|department|inbox|address|e-?mail|\w+ \w+\.)"),
        (4, r"\bmeant (?:to send|for) (?:this )?(?:to )?someone else\b|\bnot meant for me\b"),
        # "I don't handle X".
        (3, r"\bi (?:don'?t|do not) (?:handle|deal with|manage|look after|own|work (?:on|in))\b"),
        (3, r"\bnot responsible for\b|\bnothing to do with\b|\bnot me\b|\bnot involved\b"),
        (3, r"\b(?:isn'?t|aren'?t|not) (?:something|anything) i (?:touch|handle|do|work on)\b"),
        # Someone without authority over the purchase.
        (3, r"\b(?:isn'?t|not) (?:my|in my) (?:area|department|remit|role|job|responsibility)\b"),
        (3, r"\bno say\b|\bcan'?t make (?:\w+ )?decisions?\b|\bnot the decision[- ]maker\b"),
        (3, r"\bjust an? (?:intern|assistant)\b|\boutside (?:my|of my) (?:remit|scope|area)\b"),
        # A role that is plainly not the buyer.
        (2, r"\bi(?:'m| am| work) in (?:finance|it|hr|engineering|legal|accounting|support)\b"),
        (2, r"\b(?:i'm|i am|i work) on the (?:product|engineering|tech|finance|ops) side\b"),
    ),
    # A call is proposed or accepted.
    "meeting_requested": (
        (
            3,
            r"\b(?:let'?s|can we|could we|happy to|open to|free for|available for|up for)\b"
            r".{0,30}\b(?:talk|chat|call|meet|connect|speak|zoom|demo|meeting|calendar)\b",
        ),
        (3, r"\b(?:jump|hop|get) on a (?:call|zoom|quick call)\b|\b(?:give|ring) me a call\b"),
        (3, r"\bwhen (?:are|would) you (?:be )?(?:free|available)\b|\byour availability\b"),
        (3, r"\b(?:ping|send|propose|suggest) (?:me )?(?:a|some) (?:time|times|slots?)\b"),
        (3, r"\bcould you do\b|\bdoes \w+ work for you\b|\bworks for me\b|\bwalk ?through\b"),
        # The mechanics of booking.
        (2, r"\b(?:calendar|calendly|invite|schedule|set up a|slot|find a time)\b|https?://cal"),
        (2, r"\bbook (?:a |some )?(?:time|slot|demo|call|meeting)\b|\ba couple of times\b"),
        # A time or duration: they rarely appear outside scheduling.
        (1, r"\b(?:monday|tuesday|wednesday|thursday|friday|tomorrow|next week|afternoon|morning)"),
        (1, r"\b\d{1,2}(?::\d\d)? ?(?:am|pm)\b|\b\d+ ?min(?:ute)?s?\b|\bbetween \d+ and \d+\b"),
        (1, r"\b(?:call|chat|meeting|demo|zoom|phone)\b"),
    ),
    # Material wanted before deciding.
    "needs_more_info": (
        (3, r"\b(?:more|further|additional|some) (?:info|information|details?|context)\b"),
        (3, r"\btell me more\b|\belaborate\b|\bshare more\b|\bmore about\b"),
        # Price questions want a document, not a call.
        (2, r"\b(?:pricing|price list|prices?|costs?|how much|rates|quote)\b"),
        (2, r"\b(?:deck|one-?pager|brochure|case stud(?:y|ies)|whitepaper|documentation)\b"),
        (2, r"\b(?:video|datasheet|overview|pdf|materials?|slides|examples|references)\b"),
        # "Send details please", "send me whatever you have".
        (1, r"\b(?:send|share|email)\b.{0,20}\b(?:details|info|over)\b"),
        (2, r"\bsend (?:me |us )?(?:over )?(?:what|whatever|anything|something)\b"),
        (2, r"\bsomething (?:i|we) can (?:forward|share|read|show)\b"),
    ),
    # A refusal, however polite.
    "not_interested": (
        # Outweighs the "interested" inside it.
        (4, r"\bnot (?:really |at all |currently |that )?(?:interested|a (?:good )?fit)\b"),
        (4, r"\bnot (?:a priority|for us|relevant)\b|\bkein interesse\b|\bpas intéressée?\b"),
        (3, r"\bno,? thanks?\b|\bno thank you\b|\bno,? but thanks\b|\bthanks,? but no\b"),
        (3, r"\b(?:we'?ll|i'?ll|we will|going to) pass\b|\bnot buying\b|^\s*(?:no|pass)[.!]*$"),
        (3, r"\b(?:it'?s|that'?s) a (?:hard )?no\b|\ba no (?:from|for) (?:us|me)\b"),
        # Reasons given instead of a no.
        (2, r"\b(?:already (?:use|have|work with|using|signed)|happy with (?:our|what|it|the))\b"),
        (2, r"\b(?:signed (?:a|with)|no budget|don'?t need|not looking|no need)\b"),
        (2, r"\b(?:cut|froze|frozen|freez\w+) (?:the |our )?(?:\w+ )?budget\b|\bin-house\b"),
        (2, r"\b(?:don'?t waste|don'?t follow up|not something we can|isn'?t something)\b"),
        (2, r"\b(?:nah|nope|decline)\b|\bwe don'?t have (?:an? )?\w+ team\b|\bcovered\b"),
        (2, r"\b(?:we'?re|we are|i'?m|i am) (?:all set|good|fine)(?: for now| thanks)?[.!]*$"),
        (2, r"\bnot (?:right )?now\b|\bnot at (?:this|the moment|present)\b"),
    ),
    # A yes without a concrete next step.
    "interested": (
        (2, _NOT + r"\binterest(?:ed|ing)\b|\bintrigued\b|\bkeen\b|\bcurious\b"),
        (2, r"\b(?:sounds|looks) (?:good|great|interesting|promising|useful)\b"),
        (2, r"\b(?:count (?:me|us) in|sign (?:me|us) up|i'?m in\b(?! \w)|we'?re in\b(?! \w))"),
        (2, r"\blove to\b|\btry it\b|\bmove forward\b|\bnext steps?\b|\bgo ahead\b"),
        (2, r"\bwarm lead\b|\bon our radar\b|\bwelcome\b|\b(?:nice|great|perfect|awesome)\b"),
        # Relevance to a current need.
        (2, r"\b(?:timely|timing is good|right time|something we need|exactly (?:what|this))\b"),
        (2, r"\b(?:relevant|(?:good|great) fit|fit for us|explore)\b|\bwe could use\b"),
        (2, r"\b(?:been|were) (?:talking|thinking|looking) (?:about|into|for|at)\b"),
        (2, r"\blook(?:ing)? (?:into|for) (?:exactly |precisely )?(?:this|something like)\b"),
        # A bare yes is weak: meeting and info replies often start with one.
        (1, r"\b(?:yes|yep|yeah|sure|absolutely|definitely|of course)\b"),
    ),
    # About us or the product, and not a request for material.
    "question": (
        (3, r"\bhow did you (?:get|find)\b|\bwho (?:are you|is this)\b"),
        (3, r"\bwhat (?:company|is this|does \w+ (?:actually )?do)\b"),
        (3, r"\bhave we (?:spoken|met|talked)\b|\bdo (?:we|i) know (?:each other|you)\b"),
        # A sentence that opens as a question and ends with "?".
        (
            2,
            r"(?:^|[:.!,]\s)\s*(?:how|what|who|which|where|why|when|is|are|does|do|did|can|could|"
            r"will|would|have|has|should)\b[^.!?\n]*\?",
        ),
        # Product-fit topics leads ask about.
        (1, r"\b(?:integrat\w*|compatible|compliant|gdpr|free trial|support for|based in)\b"),
    ),
    # Acknowledgements and deferrals.
    "neutral": (
        (2, r"\b(?:got it|received|noted|let me think|get back to you|circle back)\b"),
        (2, r"\b(?:will|'ll) (?:take a look|have a look|review|revert|think)\b|\blook into it\b"),
        (2, r"\bkeep (?:it|you) in mind\b|\bhave a look\b|^\s*(?:ok(?:ay)?|k|👍)\W*$"),
        (2, r"\b(?:keep an eye out|let you know|discuss (?:it )?internally|heads up)\b"),
        # Politeness alone: every other label outweighs it.
        (1, r"\b(?:thanks|thank you|thx|cheers|appreciate(?:d)?)\b"),
    ),
}
RULES: tuple[Rule, ...] = tuple(
    Rule(label, weight, re.compile(pattern, _IM))
    for label, entries in _TABLE.items()
    for weight, pattern in entries
)


def score_labels(text: str) -> dict[str, int]:
    """The summed weight of the rules that match ``text``, per label."""
    scores: dict[str, int] = {}
    for rule in RULES:
        if rule.pattern.search(text):
            scores[rule.label] = scores.get(rule.label, 0) + rule.weight
    return scores


def best_label(text: str) -> str:
    """The highest-scoring label, ties broken by ``PRIORITY``; ``neutral`` when nothing fires."""
    scores = score_labels(text)
    if not scores:
        return "neutral"
    return max(PRIORITY, key=lambda label: (scores.get(label, 0), -PRIORITY.index(label)))


# --- Return dates of out-of-office replies ----------------------------------------------------
# English, German and French names and abbreviations, month by month.
_MONTH_NAMES = (
    "january jan januar janvier janv|february feb februar février févr|march mar märz maerz mars|"
    "april apr avril avr|may mai|june jun juni juin|july jul juli juillet juil|august aug août|"
    "september sep sept septembre|october oct oktober okt octobre|november nov novembre|"
    "december dec dezember dez décembre déc"
)
_MONTHS = {
    name: number
    for number, names in enumerate(_MONTH_NAMES.split("|"), start=1)
    for name in names.split()
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE_FORMS = (
    ("ymd", re.compile(r"(\d{4})-(\d{2})-(\d{2})")),
    ("dmy", re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?")),
    ("dm", re.compile(r"(\d{1,2})(?:st|nd|rd|th|er)?(?: of)? " + _MONTH + r"(?:,? (\d{4}))?", _I)),
    ("md", re.compile(_MONTH + r" (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?", _I)),
    ("weekday", re.compile(r"(" + "|".join(_WEEKDAYS) + r")", _I)),
)
_WEEKDAY_PREFIX = re.compile(r"^(?:" + "|".join(_WEEKDAYS) + r"),? (?=\d|[a-zé]{3})", _I)
RETURN_KEYWORDS = re.compile(
    r"\b(?:back (?:in the office )?on|return(?:ing)? on|returning|until|till|through|to|"
    r"bis(?: einschließlich| zum)?|jusqu'au|jusqu’au|hasta el)\s+(?:the |le |den )?",
    _I,
)


def find_return_date(text: str, sent: date | None) -> date | None:
    """The first date named after "until"/"back on"/"bis"/… in an out-of-office text, or None.

    Without a year the date is placed on or after ``sent`` (a reply in December saying "until
    January 3" means next year); without ``sent`` a yearless date is None. "until Monday" is the
    next Monday after ``sent``. Ambiguous slash dates (03/04) are never guessed.
    """
    for keyword in RETURN_KEYWORDS.finditer(text):
        tail = text[keyword.end() : keyword.end() + 40]
        # "until Monday 11 March" names the date; the weekday alone is the fallback.
        for candidate, (form, pattern) in product(
            (_WEEKDAY_PREFIX.sub("", tail), tail), _DATE_FORMS
        ):
            match = pattern.match(candidate)
            found = _to_date(form, match.groups(), sent) if match is not None else None
            if found is not None:
                return found
    return None


def _to_date(form: str, groups: tuple[str | None, ...], sent: date | None) -> date | None:
    if form == "weekday":
        if sent is None or groups[0] is None:
            return None
        ahead = (_WEEKDAYS.index(groups[0].lower()) - sent.weekday() - 1) % 7 + 1
        return sent + timedelta(days=ahead)
    if form == "ymd":
        year, month, day = groups
    elif form == "dmy":
        day, month, year = groups
    elif form == "dm":
        day, month, year = groups[0], str(_MONTHS[str(groups[1]).lower()]), groups[2]
    else:
        month, day, year = str(_MONTHS[str(groups[0]).lower()]), groups[1], groups[2]
    try:
        if year is not None:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return date(full_year, int(str(month)), int(str(day)))
        if sent is None:
            return None
        found = date(sent.year, int(str(month)), int(str(day)))
        return found if found >= sent else date(sent.year + 1, found.month, found.day)
    except ValueError:
        return None
