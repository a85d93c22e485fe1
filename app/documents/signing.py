"""Signing the minutes (PAdES, pyHanko) with the agency's key from a PKCS#12 file.

    DocumentError            a document cannot be made; `code` names the rule
     └── SigningKeyError     the PKCS#12 file is missing or cannot be opened (`signing_key_unreadable`)

The password is never logged nor kept in an error message.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

__all__ = ["DocumentError", "Signer", "SigningKeyError"]

FIELD_NAME = "ChuKyCoQuan"
"""The signature field: the agency's signature (chữ ký cơ quan)."""


class DocumentError(ValueError):
    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.field = code, message, field


class SigningKeyError(DocumentError):
    pass


class Signer:
    """An agency's signing key and certificate chain, loaded once from a PKCS#12 file."""

    def __init__(self, signer: signers.SimpleSigner, *, reason: str, location: str) -> None:
        self._signer = signer
        self.reason = reason
        self.location = location

    @classmethod
    def from_p12(
        cls,
        path: str | Path,
        password: str | bytes | None,
        *,
        reason: str = "Xác nhận biên bản được lập từ nhật ký sự kiện của kỳ thi đua",
        location: str = "",
    ) -> Signer:
        """Load the key; `SigningKeyError` names the file (never the password) when it fails."""
        p = Path(path)
        if not p.is_file():
            raise SigningKeyError(
                "signing_key_unreadable", f"no PKCS#12 file at {p}", "THIDUA_SIGN_P12"
            )
        secret = password.encode() if isinstance(password, str) else password
        try:
            signer = signers.SimpleSigner.load_pkcs12(str(p), passphrase=secret)  # type: ignore[no-untyped-call]
        except Exception:  # pyHanko/cryptography raise several types for a bad file or password
            signer = None
        if signer is None:
            raise SigningKeyError(
                "signing_key_unreadable",
                f"cannot open the PKCS#12 file {p}: wrong password or not a PKCS#12 key",
                "THIDUA_SIGN_P12_PASSWORD",
            )
        return cls(signer, reason=reason, location=location)

    @property
    def fingerprint(self) -> bytes:
        """SHA-256 of the signing certificate: which key signs."""
        cert = self._signer.signing_cert
        return bytes(cert.sha256) if cert is not None else b""

    @property
    def subject(self) -> str:
        cert = self._signer.signing_cert
        return cert.subject.human_friendly if cert is not None else ""

    def sign(self, pdf: bytes) -> bytes:
        """The PDF with a PAdES signature appended as an incremental update."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        meta = PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=self.reason,
            location=self.location or None,
        )
        out: BytesIO = signers.sign_pdf(writer, meta, signer=self._signer)
        return out.getvalue()
