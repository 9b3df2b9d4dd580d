"""The sandbox's page in a real browser: an employee and an InfraManager engineer, side by side.

Debian's `chromium` and `chromium-driver` (installed by .ci/install) run headless under Selenium;
nothing downloads a browser. The whole sandbox runs as processes (the services, the stand-ins,
the simulator with its console in manual mode, the web chat). Through the page only, the test
signs in with the code from the mailbox panel, files a ticket with a captioned photo, plays the
engineer in the console (register, take into work, ask a question, comment with a file,
resolve), and rates the work; it asserts on what a person sees, including that the newest
message is in view, that a scrolled-up chat shows a "new messages" badge instead of jumping, and
that an old button's answer shows as a toast. Screenshots of the main moments go to
$BROWSER_TEST_OUTPUT (default: the test's tmp dir) under screenshots/.

"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpdesk_gateway.i18n import I18n, Texts
from helpdesk_sandbox.demo import person
from helpdesk_sandbox.stack import Sandbox, SandboxConfig
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT = 30.0
EMPLOYEE = person("maria.ivanova")
T: Texts = I18n.load().texts("ru")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    config = SandboxConfig(
        workdir=tmp_path / "sandbox",
        inbox_poll_seconds=0.3,
        imsim_mode="manual",
        service_env={"gateway": {"GATEWAY_PER_CHAT_RATE": "20"}},
    )
    with Sandbox(config) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver: . .ci/install installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=ru"):
        options.add_argument(argument)
    options.add_argument("--window-size=1440,960")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The web chat page as a person uses it: what they see and what they press."""

    def __init__(self, driver: webdriver.Chrome, shots: Path) -> None:
        self.driver = driver
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)

    def until[R](self, probe: Callable[[], R | None], what: str, timeout: float = WAIT) -> R:
        def attempt(_: object) -> R | None:
            try:
                return probe()
            except StaleElementReferenceException:  # re-rendered under us: look again
                return None

        try:
            found = WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(attempt)
        except WebDriverException as error:
            self.shot("failed")
            raise AssertionError(f"not seen within {timeout}s: {what}\n{self.chat()}") from error
        assert found is not None
        return found

    def shot(self, name: str) -> None:
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def css(self, selector: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def first(self, selector: str) -> WebElement | None:
        found = self.css(selector)
        return found[0] if found else None

    def chat(self) -> list[str]:
        return [m.text for m in self.css("#messages .msg")]

    def bot_message(self, expected: str | Callable[[str], bool]) -> WebElement:
        """The newest bot message whose visible text is `expected` (or satisfies it)."""
        check = expected if callable(expected) else (lambda text: text == expected)

        def probe() -> WebElement | None:
            for message in reversed(self.css("#messages .msg.bot")):
                texts = message.find_elements(By.CSS_SELECTOR, ".text")
                if texts and check(texts[0].text):
                    return message
            return None

        return self.until(probe, f"a bot message {expected!r}")

    def newest_in_view(self) -> bool:
        """Whether the newest message is inside the visible part of the chat."""
        return bool(
            self.driver.execute_script(
                """const log = document.getElementById('log').getBoundingClientRect();
                   const all = document.querySelectorAll('#messages .msg');
                   if (!all.length) return false;
                   const last = all[all.length - 1].getBoundingClientRect();
                   return last.bottom <= log.bottom + 1 && last.top >= log.top - 1;"""
            )
        )

    def assert_newest_in_view(self) -> None:
        self.until(lambda: self.newest_in_view() or None, "the newest message in view", 5)

    def type(self, text: str) -> None:
        field = self.driver.find_element(By.ID, "text")
        field.send_keys(text)
        self.driver.find_element(By.ID, "send").click()

    def press(self, message: WebElement, caption: str) -> None:
        for button in message.find_elements(By.CSS_SELECTOR, ".inline button"):
            if button.text == caption:
                button.click()
                return
        raise AssertionError(f"no button {caption!r} under {message.text!r}")

    def keyboard(self) -> list[str]:
        return [b.text for b in self.css("#keyboard button")]

    def attach(self, path: Path) -> None:
        self.driver.find_element(By.ID, "photos").send_keys(str(path))

    def toast(self) -> str:
        def probe() -> str | None:
            shown = self.css("#toast.shown")
            return shown[0].text if shown and shown[0].text else None

        return self.until(probe, "a toast")

    def ticket_card(self) -> WebElement:
        return self.until(lambda: self.first("#tickets .ticket"), "a ticket card")

    def engineer(self, action: str, text: str = "", file: Path | None = None) -> None:
        card = self.ticket_card()
        if text:
            card.find_element(By.CSS_SELECTOR, "textarea.engineer-text").send_keys(text)
        if file is not None:
            card.find_element(By.CSS_SELECTOR, "input.engineer-file").send_keys(str(file))
        card.find_element(By.CSS_SELECTOR, f"button[data-action={action}]").click()

    def sent_notifications(self) -> str:
        """The notifications the console's InfraManager sent for the ticket (folded or not)."""
        sent = self.ticket_card().find_elements(By.CSS_SELECTOR, "details.sent")
        return str(sent[0].get_attribute("textContent") or "") if sent else ""

    def ticket_status(self) -> str:
        return str(self.ticket_card().get_attribute("data-status"))


def picture(path: Path, colour: tuple[int, int, int]) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_employee_and_engineer_in_the_browser(
    sandbox: Sandbox, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    output = Path(os.environ.get("BROWSER_TEST_OUTPUT") or tmp_path)
    page = Page(browser, output / "screenshots")
    browser.get(sandbox.webchat_url)

    # Pick the employee: the page speaks their language.
    page.until(lambda: page.css(f".person[data-id='{EMPLOYEE.telegram.id}']"), "the people")
    page.css(f".person[data-id='{EMPLOYEE.telegram.id}']")[0].click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ru"

    # Sign in with the code from the mailbox panel.
    page.type("/start")
    page.bot_message(T("sign-in-welcome"))
    page.type(EMPLOYEE.email)
    page.bot_message(lambda text: text.startswith(T("sign-in-code-sent").split("{")[0][:20]))
    code = page.until(lambda: page.first("#mailbox .mail .code"), "the code").text
    assert re.fullmatch(r"\d{6}", code)
    page.shot("01-sign-in-code")
    page.type(code)
    page.bot_message(T("sign-in-done", name=EMPLOYEE.name, email=EMPLOYEE.email))
    # Signed in: the code message's «Ввести другой адрес» is taken away by the bot.
    page.until(
        lambda: (
            not page.bot_message(
                lambda text: text.startswith(T("sign-in-code-sent")[:12])
            ).find_elements(By.CSS_SELECTOR, ".inline button")
            or None
        ),
        "the code message's button taken away",
    )
    page.until(lambda: T("menu-new-ticket") in page.keyboard() or None, "the menu keyboard")
    # The reply keyboard took space from the chat: the newest message is still in view.
    page.assert_newest_in_view()

    # A ticket with a captioned photo, through inline and reply-keyboard buttons.
    next(b for b in page.css("#keyboard button") if b.text == T("menu-new-ticket")).click()
    categories = page.bot_message(T("wizard-choose-category"))
    page.assert_newest_in_view()
    page.press(categories, "Принтеры и МФУ")
    page.press(
        page.bot_message(T("wizard-choose-subcategory", category="Принтеры и МФУ")), "Не печатает"
    )
    page.bot_message(lambda text: text.startswith(T("wizard-ask-description").split("(")[0][:30]))
    description = "Принтер в 301 не печатает, мигает красная лампа"
    page.type(description)
    page.bot_message(lambda text: text.startswith("Где вы находитесь?"))
    page.type("Кабинет 301, 3 этаж")
    page.bot_message(lambda text: text.startswith("Приложите фото"))
    page.driver.find_element(By.ID, "text").send_keys("Лампа мигает красным")
    page.attach(picture(tmp_path / "printer.jpg", (200, 30, 30)))
    mine = page.until(
        lambda: next((m for m in page.css("#messages .msg.me img") if m), None), "my photo"
    )
    caption = mine.find_element(By.XPATH, "..").text
    assert "Лампа мигает красным" in caption
    page.until(
        lambda: (
            page.driver.execute_script(
                "return [...document.querySelectorAll('#messages img')].every(i => i.complete)"
            )
            or None
        ),
        "images loaded",
    )
    page.assert_newest_in_view()
    done = page.until(
        lambda: next(
            (
                m
                for m in reversed(page.css("#messages .msg.bot"))
                if T("button-photos-done")
                in [b.text for b in m.find_elements(By.TAG_NAME, "button")]
            ),
            None,
        ),
        "the photos' Done button",
    )
    page.press(done, T("button-photos-done"))
    preview = page.bot_message(lambda text: f"Описание: {description}" in text)
    page.press(preview, T("button-send"))
    submitted = page.bot_message(lambda text: bool(re.search(r"TG-[0-9A-Z]{6}", text)))
    reference = re.search(r"TG-[0-9A-Z]{6}", submitted.text)
    assert reference is not None

    # The engineer's side: the ticket email as InfraManager received it.
    next(b for b in page.css(".tabs button") if b.get_attribute("data-pane") == "console").click()
    card = page.ticket_card()
    email_text = card.find_element(By.CSS_SELECTOR, ".email").text
    assert reference.group(0) in email_text
    assert description in email_text
    assert "utf-8" in email_text
    assert card.find_elements(By.CSS_SELECTOR, ".email img")  # the photo, attached
    assert page.ticket_status() == "received"
    page.shot("02-ticket-in-console")

    number = str(card.get_attribute("data-number"))
    label = T("ticket-label-number", reference=reference.group(0), number=number)
    page.engineer("register")
    page.bot_message(T("notify-status-registered", ticket=label))
    page.assert_newest_in_view()
    page.engineer("take")
    page.bot_message(T("notify-status-in-progress", ticket=label))

    # Scrolled up to read older messages: a new one does not pull the chat down; a badge
    # offers it, and pressing the badge brings the newest message into view.
    browser.execute_script("document.getElementById('log').scrollTop = 0")
    question = "Принтер подключён по USB или по сети?"
    page.engineer("ask", question)
    page.until(lambda: page.css("#badge.shown") or None, "the new-messages badge")
    assert not page.newest_in_view()
    page.css("#badge")[0].click()
    asked = page.bot_message(lambda text: question in text)
    assert T("notify-status-waiting", ticket=label) in asked.text
    page.assert_newest_in_view()
    page.shot("03-engineer-question")
    page.until(lambda: page.ticket_status() == "waiting" or None, "status waiting")

    # The employee answers the question: «Ответить», one message, and it leaves as an email in
    # the ticket's thread (the bot says so only once the mailer has sent it).
    page.press(asked, T("button-answer"))
    prompt = page.bot_message(T("conversation-ask-comment", ticket=label))
    page.type("По сети, кабинет 301")
    page.bot_message(T("conversation-comment-sent", ticket=label))
    page.assert_newest_in_view()

    # A comment with a file: InfraManager's notification carries it.
    page.engineer("comment", "Заказали картридж", file=picture(tmp_path / "акт.jpg", (9, 9, 9)))
    page.until(
        lambda: "акт.jpg" in page.sent_notifications() or None,
        "the comment's file among the notifications sent",
    )

    page.engineer("resolve", "Заменили картридж")
    resolved = page.bot_message(
        lambda text: text.startswith(T("notify-status-resolved", ticket=label))
    )
    assert "Заменили картридж" in resolved.text
    page.until(lambda: page.ticket_status() == "resolved" or None, "status resolved")

    # «Проблема решена?» -> «Да» -> the rating, then an old button: its answer shows as a toast
    # and nothing is repeated.
    page.press(resolved, T("button-solved-yes"))
    rate = page.bot_message(T("solved-rate", ticket=label))
    page.press(rate, T("button-stars", stars=5))
    page.bot_message(T("rating-ask-comment"))
    page.type("Быстро и вежливо")
    page.bot_message(T("rating-thanks"))
    # The comment question is over: the bot itself takes its "No comment" button away.
    page.until(
        lambda: (
            not page.bot_message(T("rating-ask-comment")).find_elements(
                By.CSS_SELECTOR, ".inline button"
            )
            or None
        ),
        "the 'No comment' button taken away",
    )
    # «Не отправлять» left under the comment prompt (the comment has gone) answers with a toast,
    # as Telegram shows it, and does nothing.
    messages = len(page.chat())
    page.press(prompt, T("button-conversation-cancel"))
    assert page.toast() == T("button-stale")
    page.shot("04-rated")
    assert len(page.chat()) == messages
    assert page.chat().count(T("rating-thanks")) == 1
    # Pressing it scrolled the chat up to it; the person scrolls back down.
    browser.execute_script("const log = document.getElementById('log'); log.scrollTop = 1e9")
    page.assert_newest_in_view()

    # A reload opens the same person's chat with the newest message in view.
    browser.refresh()
    page.bot_message(T("rating-thanks"))
    page.until(
        lambda: (
            browser.execute_script(
                "return [...document.querySelectorAll('#messages img')].every(i => i.complete)"
            )
            or None
        ),
        "images loaded after the reload",
    )
    page.assert_newest_in_view()

    # A phone: one column, nothing wider than the screen.
    browser.set_window_size(390, 844)
    assert page.css("nav#views button")[0].is_displayed()
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )
    page.assert_newest_in_view()
    page.shot("05-phone")
