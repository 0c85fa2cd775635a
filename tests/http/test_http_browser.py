"""The web page in a real headless Debian chromium (Selenium): chat with citations, feedback, calculator."""
from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from assistant.feedback import FeedbackStore
from browser_support import PHONE, page_errors, screenshot, wait


def test_chat_citations_feedback_and_calculator_at_phone_width(browser, live_server, tmp_path):
    driver = browser
    driver.get(live_server.url + "/")
    assert driver.title == "Partnership Assistant"
    # The partnership lists come from the API.
    wait(driver).until(lambda d: len(Select(d.find_element(By.ID, "partnership")).options) > 1)
    wait(driver).until(lambda d: len(Select(d.find_element(By.ID, "calc-partnership")).options) >= 1)

    # Ask a question and get an answer with numbered citations.
    driver.find_element(By.ID, "question").send_keys("What is the ELP board made up of?")
    driver.find_element(By.ID, "ask-button").click()
    answer = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".message.assistant .answer-text")))
    assert answer.text.strip()
    citations = driver.find_elements(By.CSS_SELECTOR, ".message.assistant details.citation")
    assert len(citations) >= 1
    snippet = citations[0].find_element(By.CSS_SELECTOR, ".snippet")
    assert not snippet.is_displayed()

    # Expanding a citation shows its snippet, title and source.
    citations[0].find_element(By.TAG_NAME, "summary").click()
    wait(driver, 10).until(lambda d: snippet.is_displayed())
    assert citations[0].get_attribute("open") is not None
    assert snippet.text.strip()
    summary = citations[0].find_element(By.TAG_NAME, "summary").text
    assert summary.startswith("[1] ") and len(summary) > len("[1] ")  # number and source title
    assert citations[0].find_element(By.CSS_SELECTOR, ".cite-source").text.startswith("Source file: ")

    # An inline [n] marker in the answer opens citation n too.
    citations[0].find_element(By.TAG_NAME, "summary").click()
    wait(driver, 10).until(lambda d: not snippet.is_displayed())
    marker = driver.find_element(By.CSS_SELECTOR, ".answer-text button.cite-ref")
    n = int(marker.text.strip("[]"))
    marker.click()
    wait(driver, 10).until(lambda d: citations[n - 1].get_attribute("open") is not None)

    # The page keeps history: a follow-up is answered too.
    driver.find_element(By.ID, "question").send_keys("and how is it funded?")
    driver.find_element(By.ID, "ask-button").click()
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 2)

    # A fee question asked in the chat shows the calculator's working as a table, from `calculation`.
    driver.find_element(By.ID, "question").send_keys("What would a 420-pupil maintained primary pay for ELP under scenario 2?")
    driver.find_element(By.ID, "ask-button").click()
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 3)
    calc_answer = driver.find_elements(By.CSS_SELECTOR, ".message.assistant")[2]
    assert "£6,566" in calc_answer.find_element(By.CSS_SELECTOR, ".calc-total").text
    assert len(calc_answer.find_elements(By.CSS_SELECTOR, "table.calc-table tbody tr")) >= 4
    assert calc_answer.find_elements(By.CSS_SELECTOR, "details.citation")  # where each rate comes from

    # Thumbs up is stored in the server's feedback database.
    driver.find_element(By.CSS_SELECTOR, ".message.assistant button.thumb[data-rating='up']").click()
    wait(driver, 20).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".message.assistant .feedback"), "Thanks"))
    rows = FeedbackStore(live_server.data_dir / "feedback.sqlite3").all()
    assert any(r["question"] == "What is the ELP board made up of?" and r["rating"] == "up" for r in rows)
    # A 👎 on the follow-up keeps what reproduces it: the turns before it and the answer's citations.
    calc_answer.find_element(By.CSS_SELECTOR, "button.thumb[data-rating='down']").click()
    wait(driver, 20).until(lambda d: "Thanks" in calc_answer.find_element(By.CSS_SELECTOR, ".feedback").text)
    [down] = [r for r in FeedbackStore(live_server.data_dir / "feedback.sqlite3").all() if r["rating"] == "down"]
    assert len(down["history"]) == 4 and down["history"][0]["role"] == "user" and down["citations"]

    # The calculator: 420-pupil maintained primary, scenario 2 -> net position £4,467.
    Select(driver.find_element(By.ID, "calc-partnership")).select_by_visible_text("Ealing Learning Partnership")
    Select(driver.find_element(By.ID, "calc-phase")).select_by_value("primary")
    driver.find_element(By.ID, "calc-pupils").send_keys("420")
    Select(driver.find_element(By.ID, "calc-scenario")).select_by_value("2")
    driver.find_element(By.ID, "calc-maintained").click()
    driver.find_element(By.ID, "calc-button").click()
    result = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#calc-result .calc-total")))
    assert "£4,467" in result.text
    assert driver.find_elements(By.CSS_SELECTOR, "#calc-result table.calc-table tr")

    # Usable at phone width: nothing wider than the screen.
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a {PHONE[0]}px phone screen"
    assert screenshot(driver, tmp_path, "phone.png").stat().st_size > 10_000
    assert page_errors(driver) == []


def test_calculator_error_is_shown_as_text(browser, live_server):
    driver = browser
    driver.get(live_server.url + "/")
    wait(driver).until(lambda d: len(Select(d.find_element(By.ID, "calc-partnership")).options) >= 1)
    driver.find_element(By.ID, "calc-button").click()  # neither pupils nor FE given
    error = wait(driver, 20).until(EC.visibility_of_element_located((By.ID, "calc-error")))
    assert error.text.strip()


def test_with_api_keys_the_page_asks_for_a_key_and_then_works(browser, private_index, start_server):
    server = start_server(private_index, PARTNERSHIP_API_KEYS="page-key-1")
    assert "API keys configured" in server.log()
    assert httpx.get(server.url + "/documents").status_code == 401
    assert httpx.get(server.url + "/documents", headers={"Authorization": "Bearer page-key-1"}).status_code == 200

    driver = browser
    driver.get(server.url + "/")
    key_box = wait(driver, 30).until(EC.visibility_of_element_located((By.ID, "api-key")))
    key_box.send_keys("page-key-1")
    driver.find_element(By.CSS_SELECTOR, "#auth-form button").click()
    wait(driver).until(lambda d: len(Select(d.find_element(By.ID, "partnership")).options) > 1)
    assert not driver.find_element(By.ID, "auth").is_displayed()
    driver.find_element(By.ID, "question").send_keys("What is the ELP board made up of?")
    driver.find_element(By.ID, "ask-button").click()
    wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".message.assistant details.citation")))
