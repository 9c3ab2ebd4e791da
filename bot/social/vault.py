"""A network login kept in the database between runs and shared by every process, sealed (Fernet) with a key
derived from the account's own secret: the database alone does not give the session away, and a changed
password simply means a new login."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.models import NetworkSession


class Vault:
    def __init__(
        self, sessions: sessionmaker[Session], network: str, account: str, secret: str, clock: Callable[[], datetime]
    ):
        self._sessions, self._network, self._account, self._clock = sessions, network, account, clock
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"plchat {network} session for {account}".encode()
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def load(self) -> str | None:
        """The kept session, or None (none yet, or sealed with another password)."""
        with self._sessions() as session:
            row = session.get(NetworkSession, (self._network, self._account))
            sealed = row.sealed if row is not None else None
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def save(self, plain: str) -> None:
        sealed = self._fernet.encrypt(plain.encode()).decode()
        for _ in range(2):  # two processes keeping their first session at once: the second updates
            try:
                with transaction(self._sessions) as session:
                    row = session.get(NetworkSession, (self._network, self._account))
                    if row is None:
                        session.add(
                            NetworkSession(
                                network=self._network, account=self._account, sealed=sealed, updated_at=self._clock()
                            )
                        )
                    else:
                        row.sealed, row.updated_at = sealed, self._clock()
                return
            except IntegrityError:
                continue
