"""Labelled replies to a cold email, written for coldflow's classifier tests.

Every sample was written by hand for this project (none is copied from a real mailbox or another
data set). They vary in length, tone, punctuation and typing care, and some quote our original
email, whose pitch contains "interested", "call" and "pricing" and whose footer contains
"unsubscribe", so a failure to strip quoted history shows up as a wrong label.

``TRAIN`` was written first and the rules in ``coldflow/classify_rules.py`` were tuned on it
(in two rounds, see ``TRAIN_ROUND_2``). ``HELD_OUT`` was written after the rules were frozen and
has never been used to change them: its accuracy is the honest figure to quote.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = (("Auto-Submitted", "auto-replied"),)


@dataclass(frozen=True, slots=True)
class Sample:
    label: str
    body: str
    subject: str = "Re: Quick question about SDR hiring"
    headers: tuple[tuple[str, str], ...] = ()
    quote: str | None = None  # a style of mail_samples.quoted(), or None
    html: bool = False
    kind: str = ""  # derived from the label when empty

    @property
    def expected_kind(self) -> str:
        if self.kind:
            return self.kind
        return {"out_of_office": "auto_reply", "unsubscribe": "unsubscribe"}.get(
            self.label, "reply"
        )


def _s(label: str, body: str, **kwargs: object) -> Sample:
    return Sample(label, body.strip("\n"), **kwargs)  # type: ignore[arg-type]


TRAIN_ROUND_1: tuple[Sample, ...] = (
    # --- interested -------------------------------------------------------------------------
    _s(
        "interested",
        "Yes, this is actually timely. We're struggling to ramp the new SDRs.",
        quote="gmail",
    ),
    _s("interested", "Interesting - we've been looking at tools like this. I'm in."),
    _s("interested", "Sounds good, count us in.\n\nJane"),
    _s(
        "interested",
        """Hi Sam,

Thanks for reaching out. Your timing is good: we're rebuilding our outbound motion this
quarter and this is exactly the kind of thing we've been discussing internally. Keen to
explore it.

Best regards,
Jane Doe
VP Sales, Acme""",
        quote="outlook",
    ),
    _s("interested", "yes please", quote="apple"),
    _s("interested", "This looks great. We'd love to try it out with the team."),
    _s("interested", "ok I'm intrigued. what are the next steps?"),
    _s("interested", "Definitely relevant for us. Let's move forward.", quote="gmail_wrapped"),
    _s("interested", "Could be a good fit for us, tbh. Happy to explore this.", html=True),
    _s("interested", "Honestly this is something we need. Whats the next step on your side?"),
    _s(
        "interested",
        "We're evaluating options in this space right now, so your email came at the right time. "
        "Sign us up for whatever the pilot looks like.",
        quote="german",
    ),
    # --- not_interested ---------------------------------------------------------------------
    _s("not_interested", "No thanks.", quote="gmail"),
    _s("not_interested", "Not interested."),
    _s(
        "not_interested",
        "We already use Outreach and are happy with it, so we'll pass. Good luck though.",
    ),
    _s("not_interested", "Not a priority for us right now. Maybe next year.", quote="outlook"),
    _s("not_interested", "nah we're good"),
    _s(
        "not_interested",
        """Hi Sam,

Appreciate the note, but we've just signed a two-year contract with another vendor, so
this isn't something we can consider.

Regards,
Jane""",
    ),
    _s("not_interested", "This is not a fit for us. We don't have an SDR team.", quote="apple"),
    _s("not_interested", "We'll pass on this one, thanks."),
    _s("not_interested", "Sorry, no budget for this. Please don't follow up."),
    _s("not_interested", "Kein Interesse, danke.", quote="german"),
    _s("not_interested", "Please don't waste your time, we're not buying.", quote="gmail"),
    _s("not_interested", "Thanks but no thanks"),
    # --- meeting_requested ------------------------------------------------------------------
    _s("meeting_requested", "Sure, let's talk. Does Thursday at 2pm CET work?", quote="gmail"),
    _s("meeting_requested", "Send me your calendar link and I'll grab a slot."),
    _s(
        "meeting_requested",
        "Happy to chat. I'm free Tuesday afternoon or Wednesday morning - send an invite.",
        quote="outlook",
    ),
    _s("meeting_requested", "Can we set up a call next week?"),
    _s(
        "meeting_requested",
        """Sam,

Let's get 30 minutes on the calendar. My assistant Tom (cc'd) can find a time.

J.""",
    ),
    _s("meeting_requested", "book a demo for me + my head of sales pls"),
    _s("meeting_requested", "Free for a quick call tomorrow at 10?", quote="apple"),
    _s(
        "meeting_requested", "Let's schedule a meeting. Monday 3pm works.", html=True, quote="gmail"
    ),
    _s("meeting_requested", "I'd be open to a 15 min zoom to learn more."),
    _s("meeting_requested", "Yes - grab 20 min here: https://cal.acme.test/jane/20min"),
    _s(
        "meeting_requested",
        "Let's connect after the 15th. Propose a couple of times?",
        quote="outlook",
    ),
    # --- needs_more_info --------------------------------------------------------------------
    _s("needs_more_info", "Can you send over some more info?", quote="gmail"),
    _s("needs_more_info", "What's the pricing?"),
    _s("needs_more_info", "Please send me a deck or one-pager and I'll share it internally."),
    _s(
        "needs_more_info",
        """Hi Sam,

Before I take this to my team I'd need a bit more detail: pricing for ~10 seats and a
case study from a company our size would help.

Thanks,
Jane""",
        quote="outlook",
    ),
    _s("needs_more_info", "Do you have any case studies you could share?"),
    _s("needs_more_info", "Tell me more.", quote="apple"),
    _s("needs_more_info", "Could you elaborate on how this works in practice?"),
    _s("needs_more_info", "Send details please"),
    _s("needs_more_info", "Can you email me a brochure and a price list?", html=True),
    _s("needs_more_info", "Interesting. Can you share more about how it works and what it costs?"),
    _s(
        "needs_more_info",
        "Do you have a video or some documentation I can look at first?",
        quote="gmail",
    ),
    # --- wrong_person -----------------------------------------------------------------------
    _s("wrong_person", "I'm not the right person for this.", quote="gmail"),
    _s("wrong_person", "Wrong person - I work in finance, nothing to do with sales."),
    _s("wrong_person", "I don't handle sales tooling, sorry."),
    _s(
        "wrong_person",
        """Hello,

I think you have the wrong Jane Doe. I'm a nurse in Leeds, not at Acme.

Jane""",
    ),
    _s("wrong_person", "Not my area, I'm afraid.", quote="outlook"),
    _s("wrong_person", "This isn't my department."),
    _s("wrong_person", "I'm not responsible for hiring or sales, so can't help you here."),
    _s("wrong_person", "You've got the wrong contact. I'm in IT.", quote="apple"),
    _s("wrong_person", "Not me, sorry. I have no say in this.", quote="gmail"),
    _s("wrong_person", "I'm just an intern here, I can't make decisions like that."),
    # --- referral ---------------------------------------------------------------------------
    _s(
        "referral",
        "You should talk to Mark Lee, he runs our sales team: mark@acme.test",
        quote="gmail",
    ),
    _s("referral", "Adding my colleague Priya who owns this - Priya, over to you."),
    _s("referral", "Please reach out to our Head of RevOps, Dan (dan@acme.test)."),
    _s(
        "referral",
        """Hi Sam,

I've forwarded your email to Laura Chen, who handles vendor evaluations for our sales
org. She'll get in touch if it's relevant.

Jane""",
        quote="outlook",
    ),
    _s("referral", "The person you want is our CRO, Ben. ben.okafor@acme.test"),
    _s("referral", "cc'ing Tom who looks after this"),
    _s("referral", "Try contacting sarah@acme.test instead, she's in charge of SDR hiring."),
    _s("referral", "Looping in Raj from our sales ops team.", quote="apple"),
    _s(
        "referral",
        "Better to speak with our founder, Alex - alex@acme.test.",
        quote="gmail_wrapped",
    ),
    _s(
        "referral",
        "I'm not the decision maker, but Jordan on my team is. I'll forward this to him.",
    ),
    # --- question ---------------------------------------------------------------------------
    _s("question", "How did you get my email address?", quote="gmail"),
    _s("question", "Does it integrate with HubSpot?"),
    _s("question", "Who are you and what company is this?"),
    _s("question", "Is this GDPR compliant? Where is the data stored?", quote="outlook"),
    _s("question", "Do you work with companies outside the US?"),
    _s(
        "question",
        """Hi Sam,

Quick one: is Northwind a replacement for a CRM or does it sit on top of Salesforce?

Jane""",
    ),
    _s("question", "Which of our job posts are you referring to?", quote="apple"),
    _s("question", "Is there a free trial?"),
    _s("question", "What does Northwind actually do?", quote="gmail"),
    _s("question", "Are you the same company that emailed my colleague last week?"),
    # --- neutral ----------------------------------------------------------------------------
    _s("neutral", "Thanks, received.", quote="gmail"),
    _s("neutral", "Got it."),
    _s("neutral", "Let me think about it and get back to you."),
    _s("neutral", "ok", quote="apple"),
    _s(
        "neutral",
        """Hi Sam,

Thanks for the email. I'll have a look when things calm down a bit here.

Jane""",
    ),
    _s("neutral", "Noted, thank you.", quote="outlook"),
    _s("neutral", "Will review with the team and revert."),
    _s("neutral", "👍"),
    _s("neutral", "Thanks Sam, I'll keep it in mind.", quote="gmail"),
    _s("neutral", "Appreciate it. Busy week here, will circle back."),
    # --- left_company -----------------------------------------------------------------------
    _s("left_company", "Jane no longer works at Acme."),
    _s("left_company", "I left Acme in January, so I can't help with this anymore.", quote="gmail"),
    _s("left_company", "Jane Doe has left the company. This mailbox is not monitored."),
    _s(
        "left_company",
        """Hello,

Thank you for your message. Jane is no longer with Acme Corp. For sales enquiries please
write to sales@acme.test.

Kind regards,
Acme Corp""",
        headers=AUTO,
        kind="auto_reply",
        subject="Automatic reply: Quick question about SDR hiring",
    ),
    _s("left_company", "FYI I moved on from Acme a few months ago.", quote="outlook"),
    _s("left_company", "She doesn't work here anymore."),
    _s("left_company", "I'm no longer employed by Acme. Please remove this address from your CRM."),
    _s("left_company", "Jane has left the organisation.", headers=AUTO, kind="auto_reply"),
    _s("left_company", "Hi, I've changed jobs and am now at Globex. Good luck!", quote="apple"),
    _s("left_company", "Jane retired last month."),
    # --- out_of_office ----------------------------------------------------------------------
    _s(
        "out_of_office",
        """Thank you for your email. I am currently out of the office with limited access to
email and will be back on March 18. For urgent matters please contact Mark Lee.""",
        headers=AUTO,
        subject="Automatic reply: Quick question about SDR hiring",
    ),
    _s(
        "out_of_office",
        "I'm on vacation until 12 March 2024 and will reply when I'm back.",
        headers=(("X-Autoreply", "yes"),),
        subject="Re: Quick question about SDR hiring",
    ),
    _s(
        "out_of_office",
        "I am away from my desk today. Your message has been received.",
        headers=(("Precedence", "bulk"),),
    ),
    _s(
        "out_of_office",
        "Hi, thanks for your message. I'll get back to you when I return.",
        subject="Out of Office: Quick question about SDR hiring",
    ),
    _s(
        "out_of_office",
        """Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 15.03.2024 nicht im Büro
und habe keinen Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an
Herrn Müller.""",
        subject="Abwesenheitsnotiz: Quick question about SDR hiring",
        headers=AUTO,
    ),
    _s(
        "out_of_office",
        """Bonjour, je suis absente du bureau jusqu'au 20 mars. Je traiterai votre message à mon
retour.""",
        subject="Réponse automatique : Quick question about SDR hiring",
    ),
    _s(
        "out_of_office",
        """I'm currently on parental leave and not checking email. I'll be back in the office on
2 April 2024. In the meantime, please reach out to ops@acme.test.""",
    ),
    _s(
        "out_of_office",
        "Auto-reply: I am travelling with limited access to email until Monday.",
        headers=(("X-Autorespond", "yes"),),
        subject="Auto-reply",
    ),
    _s(
        "out_of_office",
        """I am out of the office from March 4 to March 8 inclusive. I will respond to your
message upon my return.""",
        headers=(("X-Auto-Response-Suppress", "All"),),
        subject="Out of office",
    ),
    _s(
        "out_of_office",
        "Thanks for your note - I'm out of office until Friday with no access to email.",
        subject="Automatic reply: Quick question about SDR hiring",
        headers=(("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply"),),
    ),
    # --- unsubscribe ------------------------------------------------------------------------
    _s("unsubscribe", "Unsubscribe", quote="gmail"),
    _s("unsubscribe", "Please remove me from your mailing list."),
    _s("unsubscribe", "Take me off your list.", quote="outlook"),
    _s("unsubscribe", "Stop emailing me."),
    _s("unsubscribe", "Do not contact me again.", quote="apple"),
    _s(
        "unsubscribe",
        """Sam,

This is the fourth email in two weeks. Please stop sending me these and delete my
details.

Jane""",
    ),
    _s("unsubscribe", "", subject="unsubscribe"),
    _s("unsubscribe", "opt me out pls"),
    _s("unsubscribe", "Not interested. Remove me from your list please.", quote="gmail"),
    _s("unsubscribe", "Bitte keine weiteren E-Mails.", quote="german"),
    _s("unsubscribe", "Don't email me again.", quote="outlook"),
)

# Round 2: written as the first held-out set after the round-1 rules were frozen. Those rules
# scored 39.4% on it (kind 97.0%): they had learnt round 1's phrasings, not the labels. The set
# was then folded into training and the vocabulary widened; a new HELD_OUT was written after.
TRAIN_ROUND_2: tuple[Sample, ...] = (
    _s(
        "interested", "This is on our radar for Q3, so yes, your message is welcome.", quote="gmail"
    ),
    _s("interested", "Oh nice, we've literally been talking about this all week!"),
    _s(
        "interested",
        "Our CEO asked me to look into exactly this kind of tool. Consider us a warm lead.",
        quote="outlook",
    ),
    _s("not_interested", "We do all our prospecting in-house and intend to keep it that way."),
    _s("not_interested", "Pass.", quote="apple"),
    _s(
        "not_interested",
        "Hi Sam, appreciate the persistence but it's a no from us. We cut the SDR budget.",
    ),
    _s(
        "meeting_requested",
        "Could you do Friday morning? I have a gap between 9 and 10.",
        quote="gmail",
    ),
    _s("meeting_requested", "Sure, ping me a time that suits and I'll make it work."),
    _s(
        "meeting_requested",
        "I'd like to see a walkthrough with our RevOps lead present. When are you available?",
        quote="outlook",
    ),
    _s("needs_more_info", "Got a PDF or something I can forward to my boss?"),
    _s("needs_more_info", "What would this cost for a team of 6?", quote="gmail"),
    _s("needs_more_info", "Send me whatever material you have, I'll read it this weekend."),
    _s(
        "wrong_person",
        "I'm on the product side, sales tools aren't something I touch.",
        quote="apple",
    ),
    _s("wrong_person", "Sorry, I think you meant to send this to someone else."),
    _s("wrong_person", "Not the right inbox for this kind of thing."),
    _s("referral", "Kim is who you want. Her email is kim.nakamura@acme.test", quote="gmail"),
    _s("referral", "I've passed your note to our sales director; expect to hear from him."),
    _s("referral", "Best person would be Omar in partnerships, I've copied him here."),
    _s("question", "Sorry, have we spoken before?", quote="outlook"),
    _s("question", "Are you based in Europe?"),
    _s("question", "Does this work with Pipedrive or only Salesforce?", quote="gmail"),
    _s("neutral", "Cheers."),
    _s("neutral", "Thanks for the heads up, I'll keep an eye out.", quote="gmail"),
    _s("neutral", "Received, will discuss internally next week and let you know."),
    _s("left_company", "Hi there, Jane moved to a different company last year.", quote="outlook"),
    _s("left_company", "I'm not at Acme anymore, sorry!"),
    _s(
        "left_company",
        "This address is no longer in use. Jane Doe has departed Acme. Please update your records.",
        headers=AUTO,
        kind="auto_reply",
    ),
    _s(
        "out_of_office",
        "Hello, I'm away on a business trip and will answer emails on my return on 14 March.",
        subject="Away: Quick question about SDR hiring",
    ),
    _s(
        "out_of_office",
        "Thanks for getting in touch! I'm on holiday until Monday 11 March and won't see this "
        "before then.",
        headers=(("Auto-Submitted", "auto-replied"),),
    ),
    _s(
        "out_of_office",
        "Je suis en congés jusqu'au 25 mars inclus, avec un accès limité à mes e-mails.",
        subject="Absence : Quick question about SDR hiring",
    ),
    _s("unsubscribe", "please stop contacting me", quote="gmail"),
    _s("unsubscribe", "How do I get off this list?"),
    _s("unsubscribe", "Remove my address from your database immediately.", quote="outlook"),
)

TRAIN: tuple[Sample, ...] = TRAIN_ROUND_1 + TRAIN_ROUND_2
# Written after the round-2 rules were frozen; never used to change a rule. Its misses are the
# honest error rate (see the report printed by test_held_out_accuracy).
HELD_OUT: tuple[Sample, ...] = (
    _s("interested", "Ha, you caught me at a good moment. Yes, keen to hear how this would work."),
    _s("interested", "We need something like this badly. I'm listening.", quote="gmail"),
    _s(
        "interested",
        "Hi Sam - forwarded internally and we all agreed it's worth pursuing. What do you need "
        "from us to get started?",
        quote="outlook",
    ),
    _s("not_interested", "Thanks for thinking of us, but we're going a different direction."),
    _s("not_interested", "We tried something similar last year and it didn't work for us. No."),
    _s("not_interested", "Not for us, sorry.", quote="apple"),
    _s("meeting_requested", "Let's do a call. I'm around Wed after 1pm ET.", quote="gmail"),
    _s("meeting_requested", "Put something in my calendar for next Thursday and I'll be there."),
    _s(
        "meeting_requested",
        "Can you show me a live demo? Our ops manager would join as well.",
        quote="outlook",
    ),
    _s("needs_more_info", "Is there a link to more information somewhere?", quote="gmail"),
    _s("needs_more_info", "Could you send me some examples of results you've gotten for clients?"),
    _s("needs_more_info", "What's included in the basic plan and what does it run per month?"),
    _s("wrong_person", "I handle payroll, so this really isn't for me."),
    _s("wrong_person", "You've reached the wrong person, sorry about that.", quote="apple"),
    _s("wrong_person", "No idea why I'm getting this, I'm a developer."),
    _s("referral", "Speak to Hannah in sales ops, she makes those calls.", quote="gmail"),
    _s("referral", "Not my area but I've cc'd our VP of Sales who might be interested."),
    _s(
        "referral",
        "Hi, please direct this to procurement@acme.test, they review all new vendors.",
    ),
    _s("question", "Where did you see that we're hiring SDRs?", quote="outlook"),
    _s("question", "Is this an automated email?"),
    _s("question", "How long have you been around? Never heard of Northwind.", quote="gmail"),
    _s("neutral", "Thanks Sam."),
    _s("neutral", "Duly noted.", quote="outlook"),
    _s("neutral", "I'll pass this along and see what people think."),
    _s("left_company", "Jane's last day was in February. Someone else will be in touch."),
    _s("left_company", "I'm no longer with Acme - moved to a startup.", quote="gmail"),
    _s(
        "left_company",
        "The recipient is no longer employed at Acme Corp. This message will not be forwarded.",
        headers=AUTO,
        kind="auto_reply",
    ),
    _s(
        "out_of_office",
        "I'm out until March 20th and will have no email access. Back soon!",
        subject="Re: Quick question about SDR hiring",
        headers=(("X-Autoreply", "yes"),),
    ),
    _s(
        "out_of_office",
        "Currently on maternity leave until June 2024. Please contact my colleague Mark Lee "
        "for anything urgent.",
        subject="Out of office",
    ),
    _s(
        "out_of_office",
        "Hallo, ich bin im Urlaub und ab dem 18.03. wieder erreichbar.",
        subject="Automatische Antwort: Quick question about SDR hiring",
        headers=AUTO,
    ),
    _s("unsubscribe", "Unsubscribe me please", quote="outlook"),
    _s("unsubscribe", "I never signed up for this. Stop sending me emails."),
    _s("unsubscribe", "Please don't email me again.", quote="gmail"),
)
