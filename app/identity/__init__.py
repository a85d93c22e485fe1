"""Who is acting: people (an event stream each, a read model), argon2id passwords with a
lock-out, server-side web sessions with CSRF tokens, API tokens, and optional OpenID Connect
single sign-on. See the modules; `Identity` (service.py) is what the CLI and HTTP use."""

from .errors import IdentityError
from .oidc import OidcConfig, OidcLogin
from .people import People, PeopleReadModel, Person, verify_person_stream
from .service import DemoUser, Identity, IdentityConfig
from .sessions import NewSession, Sessions
from .tokens import ApiTokens, IssuedToken, TokenInfo, parse_expiry

__all__ = [
    "ApiTokens",
    "DemoUser",
    "Identity",
    "IdentityConfig",
    "IdentityError",
    "IssuedToken",
    "NewSession",
    "OidcConfig",
    "OidcLogin",
    "People",
    "PeopleReadModel",
    "Person",
    "Sessions",
    "TokenInfo",
    "parse_expiry",
    "verify_person_stream",
]
