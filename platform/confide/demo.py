"""The demo behind `confide demo`: a demo tenant, its owner account, a guideline set and a published
avatar with a few Q&A entries in English and German, so a newcomer can open /demo and chat at once.

Idempotent: a second run finds the same tenant and avatar (by the demo account's email, the tenant's
and the avatar's names) and only adds the origins of the address it now serves on."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from avatars import knowledge_store
from avatars import service as avatars
from avatars.models import Avatar
from avatars.schemas import AvatarCreate, EntryCreate
from confide.core.auth import Principal
from confide.core.clock import utcnow
from confide.core.db import create_engine, create_sessionmaker
from confide.core.identity import Membership, Tenant, User
from confide.core.ids import new_id
from confide.core.security import Passwords
from confide.core.tenancy import Role, TenantContext
from confide.settings import Settings
from confide.tenants import service as tenants
from guidelines import service as guidelines
from guidelines.schemas import GuidelineSetBody

DEMO_EMAIL = "demo@confide.localhost"
DEMO_TENANT = "Confide Demo"
DEMO_AVATAR = "Mia"
MAX_ORIGINS = 20
LOOPBACK = ("127.0.0.1", "localhost")
WILDCARDS = ("", "0.0.0.0", "::")

GUIDELINES = {
    "name": "Demo house rules",
    "languages": ["en", "de"],
    "default_language": "en",
    "rules": [
        {"kind": "style", "id": "brief", "instruction": "Answer briefly and warmly, in the visitor's language."},
        {
            "kind": "escalation",
            "id": "ask-for-a-person",
            "description": "The visitor asks for a human: hand the chat to the team.",
            "phrases": [
                "talk to a person",
                "speak to a person",
                "talk to a human",
                "speak to a human",
                "real person",
                "mit einem Menschen sprechen",
                "mit einer Person sprechen",
                "echten Menschen",
            ],
        },
    ],
}

AVATAR = {
    "name": DEMO_AVATAR,
    "persona": {"role_description": "The demo avatar of Confide: explains what Confide is and how the chat works.", "tone_notes": "friendly, brief"},
    "languages": ["en", "de"],
    "default_language": "en",
    "messages": {
        "en": {
            "greeting": "Hello, I'm Mia, Confide's demo avatar. Ask me what Confide is, which cookies it sets, or ask for a person.",
            "fallback": "I don't know that yet. Try asking what Confide is, or ask to talk to a person.",
        },
        "de": {
            "greeting": "Hallo, ich bin Mia, der Demo-Avatar von Confide. Fragen Sie mich, was Confide ist, welche Cookies es setzt, oder verlangen Sie eine Person.",
            "fallback": "Das weiß ich noch nicht. Fragen Sie zum Beispiel, was Confide ist, oder möchten Sie mit einer Person sprechen?",
        },
    },
    "responder": {"engine": "builtin"},
}

# (language, questions, answer)
KNOWLEDGE: tuple[tuple[str, list[str], str], ...] = (
    (
        "en",
        ["What is Confide?", "What is this?", "What can you do?"],
        "Confide lets businesses put AI chat avatars on their websites. The avatars answer from the business's own knowledge, "
        "follow its communication guidelines, and hand the chat to a person from the team when needed.",
    ),
    (
        "en",
        ["Which cookies do you set?", "Do you use cookies?", "Do you track me?"],
        "This chat sets no cookies. It keeps its state (a pseudonymous visitor token and the conversation id) in your browser's local storage; "
        "Confide's only cookie is an optional language setting.",
    ),
    (
        "en",
        ["Who can read this chat?", "What happens with my data?", "How long is this chat stored?"],
        "The business that runs the avatar and its staff. Confide processes the chat on the business's behalf and deletes transcripts "
        "after the retention period the business sets (30 days unless it says otherwise).",
    ),
    (
        "en",
        ["Are you a human?", "Are you a bot?", "Is this an AI?"],
        "No, I am an AI assistant. If you would like to talk to a person, just ask for one and the team takes over in this chat.",
    ),
    (
        "en",
        ["What are your opening hours?", "When are you open?"],
        "The demo team is here Monday to Friday, 9:00 to 17:00 (Central European Time).",
    ),
    (
        "en",
        ["How do I embed the widget?", "How do I add the chat to my site?"],
        'Add one script tag with your avatar\'s widget key to your page, <script src="https://HOST/widget.js" data-widget-key="cfw_…" defer></script>, '
        "and list your site's origin among the avatar's allowed origins.",
    ),
    (
        "de",
        ["Was ist Confide?", "Was kannst du?", "Was ist das hier?"],
        "Mit Confide stellen Unternehmen KI-Chat-Avatare auf ihre Websites. Die Avatare antworten aus dem Wissen des Unternehmens, "
        "halten sich an seine Kommunikationsrichtlinien und übergeben bei Bedarf an eine Person aus dem Team.",
    ),
    (
        "de",
        ["Welche Cookies setzt ihr?", "Verwendet ihr Cookies?", "Werde ich getrackt?"],
        "Dieser Chat setzt keine Cookies. Er speichert seinen Zustand (ein pseudonymes Besucher-Token und die Gesprächs-ID) im lokalen Speicher "
        "Ihres Browsers; das einzige Cookie von Confide ist eine optionale Spracheinstellung.",
    ),
    (
        "de",
        ["Wer kann diesen Chat lesen?", "Was passiert mit meinen Daten?"],
        "Das Unternehmen, das den Avatar betreibt, und seine Mitarbeitenden. Confide verarbeitet den Chat in seinem Auftrag und löscht Verläufe "
        "nach der Frist, die das Unternehmen festlegt (30 Tage, wenn es nichts anderes bestimmt).",
    ),
    (
        "de",
        ["Bist du ein Mensch?", "Bist du ein Bot?", "Ist das eine KI?"],
        "Nein, ich bin ein KI-Assistent. Wenn Sie mit einer Person sprechen möchten, sagen Sie es einfach; dann übernimmt das Team in diesem Chat.",
    ),
    (
        "de",
        ["Wann habt ihr geöffnet?", "Was sind eure Öffnungszeiten?"],
        "Das Demo-Team ist montags bis freitags von 9 bis 17 Uhr (MEZ) für Sie da.",
    ),
)


@dataclass(frozen=True, slots=True)
class Demo:
    tenant_id: str
    avatar_id: str
    widget_key: str
    allowed_origins: tuple[str, ...]
    created: bool


def _origin(scheme: str, host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host.lower()}" + (f":{port}" if port and port != default else "")


def demo_origins(settings: Settings, *, host: str, port: int) -> list[str]:
    """The origins a browser sends for pages served here: loopback by name and by address, the bound
    host when it is a real name, and the public base URL's origin (behind a proxy it differs)."""
    origins = [_origin("http", name, port) for name in LOOPBACK]
    if host not in WILDCARDS and host not in LOOPBACK:
        origins.append(_origin("http", host, port))
    public = urlsplit(settings.public_base_url)
    if public.scheme in ("http", "https") and public.hostname:
        origins.append(_origin(public.scheme, public.hostname, public.port))
    return list(dict.fromkeys(origins))


def local_base_url(*, host: str, port: int) -> str:
    """Where a browser on this machine reaches the server (a wildcard bind is reached over loopback)."""
    return _origin("http", "127.0.0.1" if host in WILDCARDS else host, port)


async def _demo_user(session: AsyncSession, settings: Settings) -> User:
    user = await session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is not None:
        return user
    now = utcnow()
    # Nobody knows the password: the account exists to own the demo tenant, not to sign in with.
    password_hash = await Passwords(settings.argon2_time_cost, settings.argon2_memory_kib).hash(secrets.token_urlsafe(32))
    user = User(
        id=new_id("usr"),
        email=DEMO_EMAIL,
        first_name="Demo",
        surname="Owner",
        pseudonym="demo",
        password_hash=password_hash,
        email_verified_at=now,
        privacy_policy_version=settings.privacy_policy_version,
        registered_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def _demo_tenant(session: AsyncSession, owner: Principal) -> Tenant:
    tenant = await session.scalar(
        select(Tenant)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == owner.id, Membership.role == Role.OWNER, Tenant.name == DEMO_TENANT)
        .order_by(Tenant.created_at)
        .limit(1)
    )
    return tenant or await tenants.create_tenant(session, owner=owner, name=DEMO_TENANT)


async def _create_avatar(session: AsyncSession, ctx: TenantContext) -> Avatar:
    gset, _ = await guidelines.create_set(session, ctx, body=GuidelineSetBody.model_validate(GUIDELINES))
    avatar = await avatars.create_avatar(session, ctx, body=AvatarCreate.model_validate({**AVATAR, "guideline_set_id": gset.id}))
    for language, questions, answer in KNOWLEDGE:
        body = EntryCreate.model_validate({"questions": questions, "answer": answer, "language": language, "tags": ["demo"]})
        await knowledge_store.create_entry(session, ctx, avatar_id=avatar.id, body=body)
    return avatar


async def ensure_demo(session: AsyncSession, settings: Settings, *, origins: list[str]) -> Demo:
    """Find or create the demo tenant and its published avatar, allowing `origins`; commits."""
    user = await _demo_user(session, settings)
    owner = Principal("user", user.id, user_id=user.id)
    tenant = await _demo_tenant(session, owner)
    ctx = TenantContext(tenant.id, Role.OWNER, owner)
    avatar = await session.scalar(select(Avatar).where(Avatar.tenant_id == tenant.id, Avatar.name == DEMO_AVATAR).order_by(Avatar.created_at).limit(1))
    created = avatar is None
    if avatar is None:
        avatar = await _create_avatar(session, ctx)
    # Stored directly: the API accepts plain http only for localhost, but a local demo is also opened as 127.0.0.1.
    allowed = list(dict.fromkeys([*origins, *avatar.allowed_origins]))[:MAX_ORIGINS]
    if allowed != list(avatar.allowed_origins):
        await avatars.set_allowed_origins(session, ctx, avatar_id=avatar.id, origins=allowed)
    if avatar.status != "published" or avatar.live_version is None:
        await avatars.publish_avatar(session, ctx, avatar_id=avatar.id)
    await session.commit()
    return Demo(tenant.id, avatar.id, avatar.widget_key, tuple(allowed), created)


async def prepare_demo(settings: Settings, *, host: str, port: int) -> Demo:
    """`confide demo`: the demo data in the configured database (migrations must have run)."""
    engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size, pre_ping=settings.database_pool_pre_ping)
    try:
        async with create_sessionmaker(engine)() as session:
            return await ensure_demo(session, settings, origins=demo_origins(settings, host=host, port=port))
    finally:
        await engine.dispose()


async def demo_widget_key(session: AsyncSession) -> str | None:
    """The widget key of the published demo avatar, if `confide demo` ever ran on this database."""
    return await session.scalar(
        select(Avatar.widget_key)
        .join(Membership, (Membership.tenant_id == Avatar.tenant_id) & (Membership.role == Role.OWNER))
        .join(User, User.id == Membership.user_id)
        .join(Tenant, Tenant.id == Avatar.tenant_id)
        .where(User.email == DEMO_EMAIL, Tenant.name == DEMO_TENANT, Avatar.name == DEMO_AVATAR, Avatar.status == "published")
        .order_by(Avatar.created_at)
        .limit(1)
    )
