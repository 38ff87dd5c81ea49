"""Each question of the enquiry form, once: what the page asks and how the hub's email reads it.

The form's fields (forms.py), the page (templates/enquiry_form.html through the
``question`` macro) and the email (message.build_body) are all made from these. Changing
a label or adding a choice is one edit here. How each answer is checked stays in
forms.py, next to its messages.

The keys are a contract: they are the POST field names and the keys of the answers
the outbox stores.

What the page shows (labels, hints, choices) is marked for translation (lazy_gettext): its
words in another language are in that language's catalogue, formsvc/translations/<code>/
(formsvc/i18n.py; docs/languages.md), never a second definition of the question. What only
the hub reads (``for_the_hub``, ``not_answered``) is English, as the hub's email always is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

NOT_ANSWERED = "Not answered"
#: The answers' key for the language the form was in ("en", "cy"): not a question on the page,
#: but stored and sealed with the answers, and named in the hub's email (message.py).
LANGUAGE_KEY = "language"


@dataclass(frozen=True)
class Choice:
    value: str  # what the page posts
    label: str  # what the page shows, and the email repeats
    # What the hub must do or not do, said after the answer in the email ("" for nothing).
    for_the_hub: str = ""


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    hint: str = ""
    kind: str = "text"  # text | email | tel | radios | textarea
    choices: tuple[Choice, ...] = ()
    optional: bool = False
    # Shown (and sent to the hub) only when the person chose this way of contact.
    only_for: str | None = None
    # What the email says when there is no answer; an unknown safety answer is read as "no".
    not_answered: str = NOT_ANSWERED
    # How the page's input behaves (autocomplete, spellcheck, width, inline radios, ...).
    attrs: dict = field(default_factory=dict)

    @property
    def choice_map(self) -> dict[str, str]:
        """value -> label, in the page's order."""
        return {choice.value: choice.label for choice in self.choices}

    def choice(self, value: str | None) -> Choice | None:
        return next((choice for choice in self.choices if choice.value == value), None)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "name", _l("What should we call you?"), optional=True,
        hint=_l("This can be your first name or any name you like."),
        attrs={"autocomplete": "given-name", "spellcheck": False, "width": "20"},
    ),
    Question(
        "contact_method", _l("How is it safe for us to contact you?"), kind="radios",
        hint=_l("Think about who else might read your emails or answer your phone."),
        choices=(
            Choice("email", _l("Email"), "Only contact this person by EMAIL. Do not phone them."),
            Choice("phone", _l("Phone"), "Only contact this person by PHONE. Do not email them."),
        ),
        # The form requires a choice; if one is missing anyway, say so loudly rather than guess.
        not_answered="Not answered. Take care before using the email address or phone number below.",
        attrs={"legend_class": "fs-fieldset__legend--m"},
    ),
    Question(
        "email", _l("Email address"), kind="email", only_for="email",
        hint=_l("Fill this in if you chose email."),
        attrs={"autocomplete": "email", "spellcheck": False},
    ),
    # The email's questions mirror the phone's: may we say who we are, is it private,
    # anything else. A yes/no left blank is read as the safe answer, NO.
    Question(
        "email_say_who_we_are", _l("Can we say who we are in the email's sender name and subject line?"),
        kind="radios", optional=True, only_for="email",
        hint=_l("For example, \"Victims and witness hub\". If you do not answer, your message will tell us to treat "
                "it as a no."),
        choices=(Choice("yes", _l("Yes")),
                 Choice("no", _l("No"), "do NOT say who we are or that we are the police in the sender name or subject")),
        not_answered="Not answered - treat as NO: do not say who we are or that we are the police in the sender name "
                     "or subject",
        attrs={"inline": True},
    ),
    Question(
        "email_private", _l("Are you the only person who can read emails sent to this address?"),
        kind="radios", optional=True, only_for="email",
        hint=_l("If you do not answer, your message will tell us to treat it as a no."),
        choices=(Choice("yes", _l("Yes")),
                 Choice("no", _l("No"), "someone else may read this inbox: write nothing they should not see")),
        not_answered="Not answered - treat as NO: someone else may read this inbox, write nothing they should not see",
        attrs={"inline": True},
    ),
    Question(
        "email_notes", _l("Is there anything else we should know before we write to you?"), optional=True,
        only_for="email",
        hint=_l("For example, a time when it is safer for you to read emails, or words we should not use."),
        attrs={"autocomplete": "off"},
    ),
    Question(
        "phone", _l("Phone number"), kind="tel", only_for="phone",
        hint=_l("Fill this in if you chose phone."),
        attrs={"autocomplete": "tel", "width": "20"},
    ),
    Question(
        "leave_message", _l("Is it safe for us to leave a message on this phone?"), kind="radios",
        optional=True, only_for="phone",
        hint=_l("For example, a voicemail or a text. If you do not answer, your message will tell us to treat it as "
                "a no."),
        choices=(Choice("yes", _l("Yes")), Choice("no", _l("No"), "do NOT leave a message")),
        not_answered="Not answered - treat as NO: do not leave a message",
        attrs={"inline": True},
    ),
    Question(
        "say_who_we_are", _l("Can we say who we are when we call?"), kind="radios", optional=True, only_for="phone",
        hint=_l("For example, if someone else answers. If you do not answer, your message will tell us to treat it "
                "as a no."),
        choices=(Choice("yes", _l("Yes")), Choice("no", _l("No"), "do NOT say who we are or where we are calling from")),
        not_answered="Not answered - treat as NO: do not say who we are or where we are calling from",
        attrs={"inline": True},
    ),
    Question(
        "call_times", _l("When is it safe to call you?"), optional=True, only_for="phone",
        hint=_l("For example, weekday mornings, or not after 6pm."),
        attrs={"autocomplete": "off"},
    ),
    Question(
        "crime_reference", _l("Crime reference number"), optional=True,
        hint=_l("If you have one."),
        attrs={"autocomplete": "off", "spellcheck": False, "width": "20"},
    ),
    Question(
        "relationship", _l("Did the crime happen to you?"), kind="radios", optional=True,
        choices=(
            Choice("harmed", _l("Yes, it happened to me")),
            Choice("on_behalf", _l("No, I am writing for someone it happened to")),
        ),
    ),
    Question(
        "message", _l("What would you like to talk about?"), kind="textarea",
        # {message_max} is the MESSAGE_MAX_CHARS setting, filled in on the page.
        hint=_l("Tell us as much or as little as you like. You can write up to {message_max:,} characters."),
    ),
)

BY_KEY: dict[str, Question] = {question.key: question for question in QUESTIONS}
ANSWER_KEYS: tuple[str, ...] = tuple(BY_KEY)

# The email's sections, in order: how to reach them safely first, so nobody phones a
# person who said "email only" or leaves a message they said was unsafe.
CONTACT_KEYS = ("contact_method", "email", "email_say_who_we_are", "email_private", "email_notes",
                "phone", "leave_message", "say_who_we_are", "call_times")
ABOUT_KEYS = ("name", "relationship", "crime_reference")
