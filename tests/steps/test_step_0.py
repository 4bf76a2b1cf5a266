"""Step 0: the newsletter API works; the welcome email is sent (slowly)."""

from step_support import written_summary

ADA = {"email": "ada@example.com", "name": "Ada"}


def subscribe(client, **person):
    return client.post("/subscribers", json={**ADA, **person})


def test_subscribe_returns_the_new_subscriber(client):
    """POST /subscribers answers 201 Created with the new subscriber and its id."""
    response = subscribe(client)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == ADA["email"]
    assert body["name"] == ADA["name"]
    assert isinstance(body["id"], int)


def test_subscribers_can_be_listed_and_fetched(client):
    """GET /subscribers lists everyone and GET /subscribers/{id} shows one."""
    ada = subscribe(client).json()
    grace = subscribe(client, email="grace@example.com", name="Grace").json()
    listed = client.get("/subscribers").json()
    assert [s["email"] for s in listed] == [ada["email"], grace["email"]]
    response = client.get(f"/subscribers/{grace['id']}")
    assert response.status_code == 200
    assert response.json() == grace


def test_root_leads_to_the_interactive_docs(client):
    """Opening / in a browser leads to the interactive docs at /docs."""
    response = client.get("/", follow_redirects=False)
    assert response.is_redirect, response.status_code
    assert response.headers["location"] == "/docs"
    assert client.get("/docs").status_code == 200


def test_welcome_email_lands_in_the_outbox(client):
    """Subscribing sends a welcome email, shown as sent in GET /outbox."""
    subscribe(client)
    emails = [e for e in client.get("/outbox").json() if e["recipient"] == ADA["email"]]
    assert len(emails) == 1, emails
    assert "welcome" in emails[0]["subject"].lower()
    assert emails[0]["status"] == "sent"


def test_duplicate_email_is_a_conflict(client):
    """Subscribing the same email twice answers 409 Conflict with a clear detail."""
    assert subscribe(client).status_code == 201
    response = subscribe(client, email="ADA@example.com", name="Ada again")
    assert response.status_code == 409
    assert "already subscribed" in response.json()["detail"]
    assert len(client.get("/subscribers").json()) == 1


def test_duplicate_email_is_a_conflict_in_any_alphabet(client):
    """ü@example.com and Ü@example.com are the same address: the second answers 409."""
    assert subscribe(client, email="ü@example.com").status_code == 201
    response = subscribe(client, email="Ü@example.com", name="Ü")
    assert response.status_code == 409, response.text
    assert len(client.get("/subscribers").json()) == 1


def test_invalid_email_is_rejected(client):
    """An email address that is not valid answers 422 and names the field."""
    response = subscribe(client, email="not-an-email")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


def test_missing_fields_are_rejected(client):
    """A body without a name or an email answers 422 saying what is missing."""
    for field in ("name", "email"):
        body = {k: v for k, v in ADA.items() if k != field}
        response = client.post("/subscribers", json=body)
        assert response.status_code == 422
        error = response.json()["detail"][0]
        assert (error["type"], error["loc"]) == ("missing", ["body", field])
    assert client.post("/subscribers", content="{").status_code == 422
    assert client.get("/outbox").json() == []


def test_unknown_subscriber_is_not_found(client):
    """GET /subscribers/{id} answers 404 for an id nobody has, 422 for a non-id."""
    assert client.get("/subscribers/12345").status_code == 404
    assert client.get("/subscribers/99999999999999999999999").status_code in (404, 422)
    assert client.get("/subscribers/ada").status_code == 422


def test_database_is_created_on_first_start(client, settings):
    """The app creates its SQLite file (and its folder) when it starts."""
    assert settings.newsletter_db.is_file()


def test_endpoints_are_documented(client):
    """Every endpoint appears in the interactive docs with a summary of its own."""
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/subscribers", "post"),
        ("/subscribers", "get"),
        ("/subscribers/{subscriber_id}", "get"),
        ("/outbox", "get"),
    ]:
        summary = written_summary(path, method)
        assert summary, f"give {method.upper()} {path} a summary=..."
        assert paths[path][method]["summary"] == summary


def test_odd_input_never_breaks_the_server(client):
    """Wrong types, empty or oversized values get a 4xx answer, never a 500."""
    bodies = [
        [],
        "ada@example.com",
        {},
        {**ADA, "name": ""},
        {**ADA, "name": "x" * 101},
        {**ADA, "name": 42},
        {**ADA, "email": None},
        {**ADA, "email": "a" * 250 + "@example.com"},
        {**ADA, "email": "ada@example"},
    ]
    for body in bodies:
        response = client.post("/subscribers", json=body)
        assert response.status_code == 422, (body, response.text)
    for subscriber_id in ("0", "-1", "1.5", "%20", "99999999999999999999"):
        response = client.get(f"/subscribers/{subscriber_id}")
        assert 400 <= response.status_code < 500, (subscriber_id, response.text)
