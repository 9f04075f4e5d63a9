"""Front-desk traffic for the load benchmark: run by bench/load.py.

Each simulated receptionist logs in once, then looks at the day calendar,
searches for patients, opens patient pages and books appointments, pausing
between clicks as the mix below says. Bookings go through the real pages:
free times, the confirm page, then the POST, with the CSRF token from the
form. A booking the clinic refuses (someone else took the slot a moment
earlier, the patient is already booked then) is a correct answer, counted
apart from errors; anything else unexpected is a failure.

Logging in is slow on purpose (the password hash): when the last user has
logged in, the login figures are put aside and, once the requests queued
behind the logins are through, the statistics start again: the rest of the
run measures the working day. The login figures and the
number of refused bookings are written to VERMILION_EXTRA_STATS at the end.

Settings come from the environment (bench/load.py sets them):
VERMILION_LOGIN, VERMILION_PASSWORD, VERMILION_PATIENTS ("first-last" ids),
VERMILION_PROCEDURE (lip flip id), VERMILION_SURNAMES (comma-separated),
VERMILION_EXTRA_STATS (a file for the figures above).
"""

import html
import json
import os
import random
import re
from datetime import date, timedelta

import gevent
from locust import HttpUser, between, events, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CONFIRM = re.compile(r'href="(/book/\d+/confirm/\?[^"]+)"')
FIRST, LAST = (int(n) for n in os.environ.get("VERMILION_PATIENTS", "1-1000").split("-"))
PROCEDURE = os.environ.get("VERMILION_PROCEDURE", "1")
SURNAMES = os.environ.get("VERMILION_SURNAMES", "smith,patel,jones").split(",")
SETTLE_SECONDS = 5
LOGGED_IN = []
EXTRA = {"logins": None, "refused": 0}


def logins_done(environment):
    """Put the login figures aside, then measure the rest of the run afresh."""
    stats = environment.runner.stats
    entry = stats.get("log in", "POST")
    EXTRA["logins"] = {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "median": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
        "max": entry.max_response_time,
    }
    # Requests queued behind the logins finish in the next seconds: start
    # counting once they have.
    gevent.spawn_later(SETTLE_SECONDS, stats.reset_all)


@events.quitting.add_listener
def write_extra(environment, **kwargs):
    path = os.environ.get("VERMILION_EXTRA_STATS")
    if path:
        with open(path, "w") as out:
            json.dump(EXTRA, out)


class FrontDesk(HttpUser):
    wait_time = between(0.2, 1.0)

    def on_start(self):
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text).group(1)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": os.environ["VERMILION_LOGIN"],
                "password": os.environ["VERMILION_PASSWORD"],
                "csrfmiddlewaretoken": token,
            },
            name="log in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused ({response.status_code})")
        LOGGED_IN.append(self)
        if len(LOGGED_IN) == self.environment.runner.target_user_count:
            logins_done(self.environment)

    def patient(self):
        return random.randint(FIRST, LAST)

    @task(4)
    def day_calendar(self):
        day = date.today() + timedelta(days=random.randint(0, 13))
        self.client.get(f"/calendar/?date={day}", name="day calendar")

    @task(4)
    def patient_search(self):
        self.client.get(f"/patients/?q={random.choice(SURNAMES)}", name="patient search")

    @task(2)
    def patient_page(self):
        self.client.get(f"/patients/{self.patient()}/", name="patient page")

    @task(1)
    def book(self):
        patient = self.patient()
        times = self.client.get(
            f"/book/{patient}/?procedure={PROCEDURE}", name="booking 1: free times"
        )
        links = CONFIRM.findall(times.text)
        if not links:
            return
        # Half the time the first time offered, which everyone else is also
        # offered: concurrent bookings race for it, and only one may win.
        url = html.unescape(links[0] if random.random() < 0.5 else random.choice(links))
        confirm = self.client.get(url, name="booking 2: confirm page")
        token = CSRF.search(confirm.text)
        if token is None:  # the page refused the proposal (e.g. patient busy)
            return
        with self.client.post(
            url,
            data={"csrfmiddlewaretoken": token.group(1), "attestation": "", "notes": ""},
            name="booking 3: book",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302 and "/appointments/" in response.headers["Location"]:
                response.success()
            elif response.status_code == 200 and "alert-danger" in response.text:
                # Refused with a message (slot just taken, patient busy): fine.
                response.success()
                EXTRA["refused"] += 1
            else:
                response.failure(f"unexpected answer {response.status_code}")
