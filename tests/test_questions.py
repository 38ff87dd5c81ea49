"""Each question is defined once (formsvc/questions.py): the page asks it and the hub's email
repeats it, in the same words. Filled in through the real form, delivered over real SMTP."""
from __future__ import annotations

import pytest

from formsvc.forms import CHECKS
from formsvc.outbox import get_outbox
from formsvc.questions import QUESTIONS
from formsvc.transport import SMTPTransport
from formsvc.worker import DeliverySettings, deliver_due
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser
from testsupport.hubmail import their_message

TYPED = {
    "name": "Siân",
    "email": "sian@example.org",
    "email_notes": "Only after 8pm, please.",
    "phone": "07700 900 982",
    "call_times": "Weekday mornings before 10am",
    "crime_reference": "CR/0042/25",
    "message": "I would like to know more about meeting him.",
}


def page_wording(page, question) -> tuple[str, dict[str, str]]:
    """The question as the page words it (without " (optional)"), and its choices' labels by value."""
    if question.kind == "radios":
        first = page.find("input", id=question.key)
        label = first.find_parent("fieldset").find("legend").get_text(strip=True)
        choices = {radio["value"]: page.find("label", attrs={"for": radio["id"]}).get_text(strip=True)
                   for radio in page.find_all("input", attrs={"name": question.key, "type": "radio"})}
    else:
        label = page.find("label", attrs={"for": question.key}).get_text(strip=True)
        choices = {}
    return label.removesuffix(" (optional)"), choices


@pytest.mark.parametrize("method, pick", [("email", 0), ("phone", 0), ("phone", 1)])
def test_every_question_and_chosen_answer_reaches_the_email_worded_as_on_the_form(
        form_app, smtp_server, method, pick):
    browser = FormBrowser(form_app.test_client())
    browser.get()
    answers = dict(TYPED)
    for question in QUESTIONS:
        if question.choices:
            answers[question.key] = question.choices[pick % len(question.choices)].value
    answers["contact_method"] = method
    if method == "email":
        answers["phone"] = ""
    page = browser.page
    assert browser.submit(**answers).status_code == 303, browser.error_links()

    transport = SMTPTransport(smtp_server.host, smtp_server.port, security="none", timeout=10)
    settings = DeliverySettings(mail_from="enquiries@rj.example", hub_inbox="hub@hub.example")
    assert deliver_due(get_outbox(form_app), transport, settings)["delivered"] == 1
    [message] = smtp_server.inbox.messages
    lines = message.get_content().replace("\r\n", "\n").split("\n")

    checked = 0
    for question in QUESTIONS:
        if question.only_for not in (None, method):
            continue  # the other way of contact is not sent: it may not be safe to use
        label, choices = page_wording(page, question)
        answer = choices[answers[question.key]] if question.choices else answers[question.key]
        if question.kind == "textarea":
            assert label in lines and their_message(message.get_content()) == answer, question.key
        else:
            assert any(line.startswith(label) and answer in line for line in lines), (label, answer, lines)
        checked += 1
    assert checked == sum(q.only_for in (None, method) for q in QUESTIONS)


def test_the_page_asks_every_question_and_the_form_checks_every_one(form_browser):
    form_browser.get()
    assert set(CHECKS) == {question.key for question in QUESTIONS}
    for question in QUESTIONS:
        assert form_browser.page.find(id=question.key) is not None, question.key
        label, choices = page_wording(form_browser.page, question)
        assert label == question.label
        assert choices == question.choice_map


def test_each_way_of_contact_asks_its_own_safety_questions_in_its_own_block(form_browser):
    """Email asks what phone asks (may we say who we are, is it private, anything else):
    each question sits in the block for its way of contact, and a yes/no left blank is read as no."""
    form_browser.get()
    page = form_browser.page
    for method in ("email", "phone"):
        block = page.find(id=f"contact-by-{method}")
        asked = [q.key for q in QUESTIONS if q.only_for == method]
        assert len(asked) >= 3, method  # the address or number and at least two questions of safety
        for key in asked:
            assert block.find(id=key) is not None, (method, key)
        yes_no = [q for q in QUESTIONS if q.only_for == method and q.choices]
        assert len(yes_no) == 2, method
        for question in yes_no:
            assert question.not_answered.startswith("Not answered - treat as NO"), question.key
            assert question.choice("no").for_the_hub, question.key
            assert "treat it as a no" in question.hint, question.key


def test_an_unknown_choice_is_not_read_as_an_answer(form_browser, stored):
    # A made-up value is refused with the question's own message, not passed on.
    form_browser.send(**valid_answers(leave_message="maybe"))
    assert form_browser.error_links() == [("#leave_message", "Select yes if it is safe for us to leave a message")]
    assert stored() == []
