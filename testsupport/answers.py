"""Answers as a person types them into the form, and as the web half stores them."""
from __future__ import annotations


def valid_answers(**changes) -> dict[str, str]:
    """What a person might type into the form: valid as it stands."""
    answers = {
        "name": "Siân",
        "contact_method": "phone",
        "email": "",
        "email_say_who_we_are": "",
        "email_private": "",
        "email_notes": "",
        "phone": "07700 900 982",
        "leave_message": "no",
        "say_who_we_are": "no",
        "call_times": "Weekday mornings before 10am",
        "crime_reference": "CR/0042/25",
        "relationship": "harmed",
        "message": "I would like to know more about meeting him.\r\nNot sure yet.",
    }
    answers.update(changes)
    return answers


def numbered_answers(n: int = 0) -> dict[str, str]:
    """Valid answers, different each time (the message names ``n``): for the benchmarks."""
    return valid_answers(
        message=f"Enquiry number {n}.\r\nI would like to know more about meeting him.\r\nNot sure yet."
    )


def sample_answers(**changes) -> dict[str, str]:
    """Answers as the web half stores them (every key, all strings), with names in several
    scripts and both ways of contact filled in: for the outbox, message and worker tests."""
    return valid_answers(**{
        "name": "Siân Łukasz محمد",
        "contact_method": "email",
        "email": "sian@example.org",
        "email_say_who_we_are": "no",
        "email_private": "yes",
        "email_notes": "Weekday evenings are best.",
        "phone": "07700 900123",
        "say_who_we_are": "yes",
        "call_times": "Weekdays after 6pm",
        "crime_reference": "CR/12345/25",
        "message": "I would like to talk about meeting him.\r\nNot sure yet.\r\n\r\nThank you.",
        **changes,
    })
