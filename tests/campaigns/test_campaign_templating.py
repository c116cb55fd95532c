"""The personalisation language: whitelisted variables and filters only, HTML escaped, every
mistake named; and the SMS length and parts a marketer sees."""

import pytest

from campaigns.services.templating import TemplateInvalid, check, render, sms_length

VALUES = {
    "first_name": "Anna",
    "tier": "Gold",
    "points": 800,
    "store": "Paris Rivoli",
    "code": "SPRING10",
    "offer": "10% off",
    "products": ["Trail shoe", "Rain jacket"],
}


def test_variables_are_replaced_and_products_listed():
    text = render("Hi {{ first_name }}, {{points}} pts. Try {{ products }}.", VALUES)

    assert text == "Hi Anna, 800 pts. Try Trail shoe, Rain jacket."


def test_filters_from_the_short_list_apply():
    assert render('{{ first_name|upper }} {{ tier|default:"member" }}', VALUES) == "ANNA Gold"
    assert render('{{ tier|default:"member" }}', {**VALUES, "tier": ""}) == "member"


def test_html_escapes_the_values_but_keeps_the_marketers_markup():
    html = render("<p>Hi {{ first_name }}</p>", {"first_name": "<b>Bob</b> & co"}, html=True)

    assert html == "<p>Hi &lt;b&gt;Bob&lt;/b&gt; &amp; co</p>"


def test_text_is_not_escaped():
    assert render("Hi {{ first_name }}", {"first_name": "Tom & Jo"}) == "Hi Tom & Jo"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Hi {{ email }}", "Unknown variable 'email'"),
        ("Hi {{ first_name|safe }}", "Unknown filter 'safe'"),
        ("{% if tier %}Gold{% endif %}", "Tags and comments"),
        ("{{ customer.email }}", "is not a variable"),
        ("Hi {{ first_name", "is not closed"),
        ('{{ first_name|upper:"x" }}', "Only the default filter takes an argument"),
        ("{{ first_name|default }}", "The default filter needs its text"),
    ],
)
def test_anything_outside_the_subset_is_refused_with_its_reason(template, problem):
    with pytest.raises(TemplateInvalid) as refused:
        check(template)

    assert problem in str(refused.value)


def test_check_names_the_variables_used():
    assert check("{{ first_name }} {{ code }} {{ code|upper }}") == {"first_name", "code"}


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "parts"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # 153 per part once split
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the euro sign is an extended character: two septets
        ("ł" * 70, "UCS-2", 70, 1),
        ("ł" * 71, "UCS-2", 71, 2),  # 67 per part once split
        ("ł" * 135, "UCS-2", 135, 3),
    ],
)
def test_sms_length_and_parts(text, encoding, characters, parts):
    length = sms_length(text)

    assert (length.encoding, length.characters, length.parts) == (encoding, characters, parts)
