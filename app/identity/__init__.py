"""Who is acting: people (an event stream each, a read model), argon2id passwords behind a
login throttle (per login and address, growing delays), server-side web sessions with CSRF
tokens, API tokens, and optional OpenID Connect single sign-on. See the modules; `Identity` (service.py) is what the CLI and HTTP use."""

from .errors import IdentityError
from .oidc import OidcConfig, OidcLogin
from .people import People, PeopleReadModel, Person, verify_person_stream
from .service import DemoUser, Identity, IdentityConfig
from .sessions import NewSession, Sessions
from .throttle import LoginDelayed, ThrottlePolicy, ThrottleRow
from .tokens import ApiTokens, IssuedToken, TokenInfo, parse_expiry

__all__ = [
    "ApiTokens",
    "DemoUser",
    "Identity",
    "IdentityConfig",
    "IdentityError",
    "IssuedToken",
    "LoginDelayed",
    "NewSession",
    "OidcConfig",
    "OidcLogin",
    "People",
    "PeopleReadModel",
    "Person",
    "Sessions",
    "ThrottlePolicy",
    "ThrottleRow",
    "TokenInfo",
    "parse_expiry",
    "verify_person_stream",
]
