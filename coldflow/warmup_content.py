"""Warmup mail content: plain, business-like messages built from a fixed phrase set (pure).

Warmup mail must read like ordinary work mail between colleagues, or mailbox providers learn
nothing useful from it: so no links, no images, no sales vocabulary (``SPAM_WORDS``), no fake
"Re:" subjects on first messages. Every slot of a message is chosen with
``sequencing.seeded_index`` from the caller's seed (the message's warmup token), so a retried
send renders the same text, and the slots multiply to well over 10^11 bodies: messages do not
repeat even before the body code, which differs per message, is added.
"""

from __future__ import annotations

from collections.abc import Sequence

from coldflow.sequencing import seeded_index

# Words and phrases that content filters score as sales or phishing. The phrase set below
# avoids them (a test checks every slot and thousands of rendered messages); names passed in
# by the caller are the inbox owners' own and are not filtered.
SPAM_WORDS: tuple[str, ...] = (
    "free", "guarantee", "guaranteed", "winner", "act now", "$$$", "click here", "click",
    "unsubscribe", "buy", "offer", "urgent", "limited time", "risk-free", "cash", "credit",
    "discount", "deal", "promo", "promotion", "prize", "congratulations", "100%", "no cost",
    "order now", "earn", "income", "investment", "casino", "loan", "cheap", "bonus",
    "exclusive", "lowest price", "sale", "apply now", "dear friend", "money", "password",
    "verify", "invoice", "payment", "opportunity", "asap", "immediately",
)  # fmt: skip

_GREETINGS = (
    "Hi", "Hello", "Hey", "Good morning", "Morning", "Hi again", "Hello again", "Good afternoon",
)  # fmt: skip
_OPENERS = (
    "Hope your week is going well.",
    "Hope you had a good weekend.",
    "Thanks for the quick turnaround earlier.",
    "Quick one from me today.",
    "Just catching up on my notes from this week.",
    "Thanks again for your help yesterday.",
    "Hope things are calm on your side.",
    "I know it has been a busy few days.",
    "Picking up where we left off.",
    "Thanks for the notes you shared.",
    "Sorry for the slow reply on this.",
    "Good to catch up the other day.",
    "Hope the trip went well.",
    "A short update before I forget.",
)
# Bare nouns: the subject uses them as they are, the body with "the".
_THINGS = (
    "Q3 roadmap", "onboarding checklist", "vendor review", "budget draft", "hiring plan",
    "team offsite", "quarterly report", "design review", "client handover", "project timeline",
    "training schedule", "office move", "product demo", "support rota", "board deck",
    "partner workshop", "release notes", "research summary", "migration plan", "customer survey",
    "planning session", "workshop agenda", "team retro", "style guide", "launch checklist",
    "capacity plan", "interview panel", "process document", "spring newsletter",
    "onboarding deck", "quarterly goals", "event logistics", "handbook update", "data cleanup",
    "sprint review", "travel plans", "site visit", "kickoff meeting", "project brief",
    "meeting notes",
)  # fmt: skip
_SUBJECTS = (
    "{Thing}",
    "Quick question about the {thing}",
    "Notes on the {thing}",
    "Following up on the {thing}",
    "{Thing}: next steps",
    "{Thing} for {day}",
    "Thoughts on the {thing}",
    "Update on the {thing}",
    "Catching up on the {thing}",
    "{Thing}, a few notes",
)
_TOPIC_LINES = (
    "I went through the {thing} this morning and made a few small edits.",
    "I had another look at the {thing} and it reads much better now.",
    "The {thing} is nearly there, just a couple of open points left.",
    "I shared the {thing} with the team and the feedback has been positive.",
    "I think we are in good shape on the {thing}.",
    "I added my comments to the {thing} last night.",
    "We talked about the {thing} in the weekly sync and everyone is on board.",
    "I moved a few sections of the {thing} around so it flows better.",
    "The latest version of the {thing} is in the shared folder.",
    "I tidied up the {thing} and removed the older notes.",
    "Most of the {thing} is settled now.",
    "I wrote up a short summary of the {thing} for the others.",
    "The {thing} came up again in today's stand-up.",
    "I compared the {thing} with last quarter and it lines up well.",
    "There are only two small questions left on the {thing}.",
    "I checked the {thing} against the notes from our last call.",
    "The team finished the first pass on the {thing}.",
    "I simplified the {thing} a little, mostly wording.",
    "I spoke with a couple of people about the {thing} and they liked the direction.",
    "I started a fresh draft of the {thing} based on what we discussed.",
)
_DETAILS = (
    "Could we go over it on {day} at {time}?",
    "I am around on {day} from {time} if you want to talk it through.",
    "Would {day} around {time} work for a quick call?",
    "Happy to walk you through it on {day}, maybe at {time}?",
    "I blocked {time} on {day} to finish the last part.",
    "Let me know if {day} at {time} suits you.",
    "I will send a short recap after our chat on {day} at {time}.",
    "The next check-in is on {day} at {time}.",
    "I can share my screen on {day} at {time} so we can look together.",
    "We could also pick it up on {day} after {time}.",
    "I should have the rest ready by {day} around {time}.",
    "If it helps, I can join the call on {day} at {time}.",
    "There is an open slot on {day} at {time} if that is easier.",
    "I pencilled in {day} at {time} for a short review.",
    "My calendar is fairly open on {day} after {time}.",
    "Shall we aim for {day} at {time}?",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_TIMES = ("9:30", "10:00", "11:15", "noon", "1:30", "2:00", "3:00", "4:30")
_ASKS = (
    "No rush at all, whenever you have a moment.",
    "Let me know what you think.",
    "Any thoughts are welcome.",
    "Tell me if anything looks off.",
    "Happy to change anything that does not work for you.",
    "Would love your view on the open points.",
    "If you spot anything missing, just say.",
    "I will keep the notes updated as we go.",
    "Shout if you would like me to take a different angle.",
    "Your input on the second half would help a lot.",
    "Let me know if you need anything else from me.",
    "I can also bring the others in if that helps.",
)
_CLOSINGS = (
    "Speak soon.", "Talk soon.", "Have a good rest of the week.", "Have a great day.",
    "Enjoy the rest of your day.", "Appreciate it.", "Catch you later.", "More soon.",
    "Until then.", "Have a good one.",
)  # fmt: skip
_SIGNOFFS = (
    "Best,", "Best regards,", "Kind regards,", "Thanks,", "Cheers,", "All the best,",
    "Warm regards,", "Regards,",
)  # fmt: skip
# The body code reads as an internal reference, as many teams put under their name.
_REF_LINES = ("Ref: {code}", "Our ref: {code}", "Ref. {code}", "Reference: {code}")
_REPLY_LINES = (
    "Thanks for sending this over.", "Thanks, this looks good to me.",
    "Great, thanks for the update.", "Thanks for pulling this together.",
    "Looks good, thank you.", "Thanks for the heads-up.", "Appreciate the quick update.",
    "Thanks, that all makes sense.", "Nice work on this.", "Thanks for keeping me in the loop.",
    "Good to hear, thanks.", "Thanks, I had a quick read.", "This is really helpful, thanks.",
    "Thanks for the summary.", "Perfect, thank you.", "Got it, thanks.",
    "Thanks, much appreciated.", "Lovely, thank you.", "Thanks for the nudge.",
    "Great to see this moving.", "Thanks, that helps a lot.", "Noted, thank you.",
    "Thanks for the clear write-up.", "Good stuff, thanks.",
)  # fmt: skip
_REPLY_FOLLOWS = (
    "{day} at {time} works for me.", "I can do {day} at {time}.",
    "Let us keep {day} at {time} then.", "I will take a closer look before {day} at {time}.",
    "I should have comments for you by {day} at {time}.",
    "{day} is a little tight, but {time} could work.", "I will bring my notes on {day} at {time}.",
    "Happy to go with {day} at {time}.", "I put {day} at {time} in my calendar.",
    "I am out on {day} morning, so {time} suits me better.", "See you on {day} at {time}.",
    "I can join on {day} from {time}.", "{day} at {time} is fine on my side.",
    "Could we move it to {day} at {time}?", "I will read it properly on {day} around {time}.",
    "Let us catch up on {day} at {time}.", "I have {day} at {time} pencilled in.",
    "I will send my notes over on {day} by {time}.", "Works for me, {day} at {time}.",
    "I will be back at my desk on {day} around {time}.",
)  # fmt: skip
_REPLY_EXTRAS = (
    "One small thing: the second section could be shorter.", "Nothing to add from my side.",
    "I will loop in the others if needed.", "I might have one or two questions later.",
    "The structure is much clearer now.", "I agree with the open points you listed.",
    "Let me know if you need a hand with the rest.", "I will share it with the team afterwards.",
    "No changes from me for now.", "Happy with the direction.", "I like the new wording.",
    "It reads well overall.",
)  # fmt: skip

# Every slot table, for the test that scans the phrase set for spam words and links.
PHRASE_TABLES: tuple[tuple[str, ...], ...] = (
    _GREETINGS, _OPENERS, _THINGS, _SUBJECTS, _TOPIC_LINES, _DETAILS, _DAYS, _TIMES, _ASKS,
    _CLOSINGS, _SIGNOFFS, _REF_LINES, _REPLY_LINES, _REPLY_FOLLOWS, _REPLY_EXTRAS,
)  # fmt: skip


def compose(seed: str, *, sender_name: str, recipient_name: str, code: str) -> tuple[str, str]:
    """The (subject, plain-text body) of a first warmup message, the same for the same seed.

    ``seed`` is the message's warmup token, so a retried send renders the same message.
    ``code`` (``warmup.body_code``) goes on a "Ref" line under the sender's name, where the
    receiving side finds it when a relay strips the header. Empty names are left out ("Hi,").
    """
    pick = _Pick(f"warmup-text:{seed}")
    thing, day = pick("thing", _THINGS), pick("day", _DAYS)
    subject = pick("subject", _SUBJECTS).format(
        thing=thing, Thing=thing[0].upper() + thing[1:], day=day
    )
    slot = {"thing": thing, "day": day, "time": pick("time", _TIMES)}
    paragraph = " ".join(
        (
            pick("opener", _OPENERS),
            pick("topic", _TOPIC_LINES).format(**slot),
            pick("detail", _DETAILS).format(**slot),
        )
    )
    closing = f"{pick('ask', _ASKS)} {pick('closing', _CLOSINGS)}"
    body = _letter(pick, recipient_name, (paragraph, closing), sender_name, code)
    return subject, body


def compose_reply(seed: str, *, sender_name: str, recipient_name: str, code: str) -> str:
    """A short plain-text reply body (the replying inbox is ``sender_name``).

    ``seed`` is the reply's own token, so a reply and a reply to it differ. The subject is the
    thread's (``reply_subject``); threading headers are ``mime``'s job.
    """
    pick = _Pick(f"warmup-reply-text:{seed}")
    slot = {"day": pick("day", _DAYS), "time": pick("time", _TIMES)}
    follow = pick("follow", _REPLY_FOLLOWS).format(**slot)
    paragraph = " ".join((pick("line", _REPLY_LINES), follow, pick("extra", _REPLY_EXTRAS)))
    return _letter(pick, recipient_name, (paragraph, pick("closing", _CLOSINGS)), sender_name, code)


def reply_subject(subject: str) -> str:
    """The subject of a reply in a thread: one "Re: " prefix, never "Re: Re: "."""
    return subject if subject[:3].lower() == "re:" else f"Re: {subject}"


class _Pick:
    def __init__(self, seed: str) -> None:
        self._seed = seed

    def __call__(self, slot: str, options: Sequence[str]) -> str:
        # One independent choice per named slot: adding a slot never shifts the others.
        return options[seeded_index(f"{self._seed}:{slot}", len(options))]


def _letter(
    pick: _Pick, recipient_name: str, paragraphs: Sequence[str], sender_name: str, code: str
) -> str:
    name = recipient_name.strip()
    greeting = f"{pick('greeting', _GREETINGS)}{' ' + name if name else ''},"
    signature = [pick("signoff", _SIGNOFFS)]
    if sender_name.strip():
        signature.append(sender_name.strip())
    signature.append(pick("ref", _REF_LINES).format(code=code))
    return "\n\n".join((greeting, *paragraphs, "\n".join(signature))) + "\n"
