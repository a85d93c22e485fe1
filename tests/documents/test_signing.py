"""Signing the minutes with an agency key (PAdES), validated by pyHanko against a certificate
authority that the test makes: a root CA, a signing certificate and a PKCS#12 file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from app.documents import ATTACHMENT_NAME, Signer, SigningKeyError, minutes_pdf

from .conftest import record_of, scenario

pytestmark = pytest.mark.pure

PASSWORD = "mật-khẩu-thử"  # a test key's password, made up here


@dataclass
class Authority:
    root: x509.Certificate
    p12: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Thi đua – Khen thưởng tỉnh"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_authority(tmp: Path, label: str) -> Authority:
    now = datetime.now(UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"CA thử {label}"))
        .issuer_name(_name(f"CA thử {label}"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Khối thi đua số 2"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    p12 = tmp / f"agency-{label}.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"agency",
            key,
            cert,
            [root],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    return Authority(root, p12)


def trust(root: x509.Certificate) -> ValidationContext:
    der = root.public_bytes(serialization.Encoding.DER)
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return make_authority(tmp_path_factory.mktemp("ca"), "1")


@pytest.fixture(scope="module")
def signed(authority: Authority) -> bytes:
    # A short cycle: signing is what is tested here, not the length of the minutes.
    rec = record_of(scenario("cancelled"))
    signer = Signer.from_p12(authority.p12, PASSWORD)
    return minutes_pdf(rec.events, **rec.kw, sign=signer)  # type: ignore[arg-type]


def test_signed_minutes_validate_against_the_agency_s_ca(
    signed: bytes, authority: Authority
) -> None:
    reader = PdfFileReader(BytesIO(signed))
    (sig,) = reader.embedded_signatures
    status = validate_pdf_signature(sig, trust(authority.root))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert "Khối thi đua số 2" in status.signing_cert.subject.human_friendly
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    # The signed file is still the PDF/A minutes, with the events attached.
    xmp = reader.root["/Metadata"].get_object().data.decode("utf-8")
    assert "pdfaid:part" in xmp
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    assert ATTACHMENT_NAME in [str(names[i]) for i in range(0, len(names), 2)]


def test_a_signature_from_another_ca_is_not_trusted(signed: bytes, tmp_path: Path) -> None:
    other = make_authority(tmp_path, "2")
    (sig,) = PdfFileReader(BytesIO(signed)).embedded_signatures
    status = validate_pdf_signature(sig, trust(other.root))
    assert status.intact and not status.trusted


def test_a_changed_byte_breaks_the_signature(signed: bytes, authority: Authority) -> None:
    at = signed.index(b"/Producer")
    tampered = signed[:at] + b"/Pr0ducer" + signed[at + len(b"/Producer") :]
    (sig,) = PdfFileReader(BytesIO(tampered)).embedded_signatures
    status = validate_pdf_signature(sig, trust(authority.root))
    assert not status.intact


def test_a_wrong_password_is_named_without_the_password(authority: Authority) -> None:
    with pytest.raises(SigningKeyError) as err:
        Signer.from_p12(authority.p12, "sai-mật-khẩu")
    assert err.value.code == "signing_key_unreadable"
    assert err.value.field == "THIDUA_SIGN_P12_PASSWORD"
    assert "sai-mật-khẩu" not in str(err.value) and PASSWORD not in str(err.value)


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError) as err:
        Signer.from_p12(tmp_path / "none.p12", PASSWORD)
    assert err.value.code == "signing_key_unreadable" and err.value.field == "THIDUA_SIGN_P12"
