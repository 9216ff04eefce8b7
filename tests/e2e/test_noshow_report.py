import csv
import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import menu_link, sign_in, wait_for_htmx

pytestmark = pytest.mark.e2e


def test_staff_filters_the_no_show_report_and_downloads_the_csv(
    page, live_server, staff_user, report_world
):
    sign_in(page, live_server, staff_user)
    menu_link(page, "Reports").click()
    expect(page.get_by_role("heading", name="No-show report")).to_be_visible()
    expect(page.locator("#by-service")).to_contain_text("Workshop A")
    wait_for_htmx(page)

    page.get_by_label("Practitioner").select_option(label="Quinn Practitioner")

    page.wait_for_url(re.compile(rf"practitioner={report_world.quinn.id}"))
    expect(page.locator("#by-service")).not_to_contain_text("Workshop A")
    expect(page.locator("#by-service")).to_contain_text("Workshop B")
    chart = page.get_by_role("img", name="No-show rate per week")
    expect(chart).to_be_visible()
    # The default range (12 weeks) holds Quinn's B1 and B2, in two different weeks.
    expect(chart.locator("rect.chart-bar")).to_have_count(2)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV (per client)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("no-shows-by-client_")
    with open(download.path(), newline="") as handle:
        rows = {row["client"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"Ana", "Ben", "Dan"}
    assert (rows["Ana"]["no_shows"], rows["Ben"]["no_shows"], rows["Dan"]["attended"]) == (
        "1",
        "1",
        "1",
    )

    # The filter lives in the URL: reloading shows the same filtered report.
    page.reload()
    expect(page.get_by_label("Practitioner")).to_have_value(str(report_world.quinn.id))
    expect(page.locator("#by-service")).not_to_contain_text("Workshop A")


def test_practitioner_overrides_a_no_show_on_the_session_page(page, live_server, practitioner):
    from tests.fixtures.attendance import book_past_session, finish, join, past
    from tests.fixtures.factories import make_user

    ana, ben = make_user(name="Ana Present"), make_user(name="Ben Phone")
    session = book_past_session(practitioner, [ana, ben], past(1))
    join(session, ana, 0, 60)
    finish(session)

    sign_in(page, live_server, practitioner)
    menu_link(page, "Attendance").click()
    page.get_by_role("link", name=session.display_title).click()
    row = page.locator("tr", has_text="Ben Phone")
    expect(row.locator(".badge")).to_have_text("no show")
    expect(row).to_contain_text("never joined")

    row.get_by_label("Outcome for Ben Phone").select_option("attended")
    row.get_by_label("Reason for Ben Phone").fill("Joined by phone")
    row.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Attendance of Ben Phone set to attended.")).to_be_visible()
    row = page.locator("tr", has_text="Ben Phone")
    expect(row.locator(".badge").first).to_have_text("attended")
    expect(row).to_contain_text("“Joined by phone”")
