async def test_health(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text


async def test_register_verify_login(factory, client):
    user = await factory.user()
    r = await client.get("/v1/me", headers=user.headers)
    assert r.status_code == 200
    assert r.json()["email"] == user.email
