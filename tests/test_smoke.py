def test_health_reports_database(api):
    r = api.client.get("/health")
    assert r.status_code == 200
    assert r.json()["database"] == ("postgresql" if api.backend == "postgres" else "sqlite")


def test_me_comes_from_token(api):
    r = api.get("greenwood", "clerk", "/api/me")
    assert r.status_code == 200
    assert r.json()["tenant"] == "greenwood"
    assert r.json()["roles"] == ["clerk"]
