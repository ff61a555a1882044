"""The vault: symmetric encryption (Fernet: AES-128-CBC + HMAC-SHA256) for the originals behind placeholders.

The key lives in one file, readable by its owner only (mode 0600), created by `safedesk init` via
`Vault.create_key`. The storage layer keeps (conversation_id, placeholder, ciphertext) rows and uses
`encrypt`/`decrypt`; nothing here touches the database.

The key file holds one base64 Fernet key per line; the first line encrypts, every line decrypts
(so a key can be rotated: put a new key on top, re-encrypt with `rotate`, then drop the old line).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from safedesk.errors import UserError

logger = logging.getLogger(__name__)

KEY_FILE_MODE = 0o600
# A business's vault key, in its data directory (DIR/data/vault.key). The one place this name lives.
VAULT_KEY_FILE = "vault.key"


class VaultError(UserError):
    """The vault key is missing, unreadable or corrupt, or a ciphertext does not decrypt with it."""


class Vault:
    """Encrypt and decrypt short strings with the business's key file."""

    def __init__(self, key_path: Path | str, *, create: bool = False) -> None:
        """Load the key at `key_path`; with `create=True` a missing key file is created first."""
        self.key_path = Path(key_path)
        if create and not self.key_path.exists():
            self.create_key(self.key_path)
        self._fernet = self._load(self.key_path)

    @classmethod
    def of_project(cls, data_dir: Path | str) -> Vault:
        """The vault of a business directory's data dir, its key created on first use."""
        return cls(Path(data_dir) / VAULT_KEY_FILE, create=True)

    # -- keys -------------------------------------------------------------------------------------

    @staticmethod
    def create_key(path: Path | str, *, overwrite: bool = False) -> Path:
        """Write a new random key to `path` with mode 0600 (parent directories are created, 0700).

        Refuses to replace an existing key unless `overwrite=True`: losing a key makes every
        ciphertext made with it unreadable.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists() and not overwrite:
            raise VaultError(f"vault key {path} already exists; refusing to replace it")
        key = Fernet.generate_key()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, KEY_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(key + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, KEY_FILE_MODE)  # in case a umask or ACL widened it
            if overwrite:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # atomic, and fails if someone created `path` meanwhile
                os.unlink(tmp)
        except FileExistsError:
            tmp.unlink(missing_ok=True)
            raise VaultError(f"vault key {path} already exists; refusing to replace it") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    @staticmethod
    def _load(path: Path) -> MultiFernet:
        if not path.is_file():
            raise VaultError(
                f"vault key {path} not found; create it with `safedesk init` "
                "(if the data directory was moved, copy its vault key along, or the stored originals are lost)"
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if os.name == "posix" and mode & 0o077:
            logger.warning("vault key %s is readable by others (mode %o); run: chmod 600 %s", path, mode, path)
        try:
            lines = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
        except OSError as exc:
            raise VaultError(f"vault key {path} cannot be read: {exc.strerror or exc}") from None
        if not lines:
            raise VaultError(f"vault key {path} is empty (corrupt); restore it from a backup")
        keys = []
        for number, line in enumerate(lines, start=1):
            try:
                keys.append(Fernet(line))
            except (ValueError, TypeError):
                raise VaultError(
                    f"vault key {path} line {number} is not a valid key (corrupt); restore it from a backup"
                ) from None
        return MultiFernet(keys)

    # -- data -------------------------------------------------------------------------------------

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a string; the result is URL-safe ASCII (a Fernet token), different on every call."""
        if not isinstance(plaintext, str):
            raise TypeError("Vault.encrypt takes a str")
        return self._fernet.encrypt(plaintext.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt a token made by `encrypt` with this key (or an older key still in the file)."""
        try:
            data = self._fernet.decrypt(token.encode("ascii") if isinstance(token, str) else token)
        except (InvalidToken, UnicodeEncodeError, TypeError):
            raise VaultError(
                f"cannot decrypt with the vault key {self.key_path}: wrong key or damaged ciphertext"
            ) from None
        return data.decode("utf-8", "surrogatepass")

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first (newest) key in the key file."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError):
            raise VaultError(f"cannot rotate: the token does not decrypt with {self.key_path}") from None
