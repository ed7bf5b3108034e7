"""Content credentials: a C2PA manifest (c2pa-python) on every finished video, poster and preview.

The manifest says the file was made by ShopVideo, with which engine, from which source photo (its SHA-256), and
how: a `c2pa.actions` assertion with `c2pa.created` and an IPTC digital source type. It is added after the final
encode (re-encoding would drop it) and signed in place atomically (a temporary file, then a rename).

Signing identity (settings):
- production: SHOPVIDEO_C2PA_CERT_CHAIN (PEM, end-entity first) and SHOPVIDEO_C2PA_PRIVATE_KEY (PEM);
  settings_production refuses to start without them or with the development chain.
- development and tests: a chain made once under VAR_DIR/c2pa/ (a root CA and one signing certificate). The root's
  private key is never written: it signs the one certificate and is discarded, so nothing else can chain to it.

"Verified" (`verify`): the manifest reads back with the library's Reader, its hash binding matches the file (one
changed byte fails it), the claim signature is valid, and the signer is the configured certificate: it chains to
our anchors (checked by the library) and has the configured certificate's issuer, subject and serial number. The
anchors are the development root, or in production SHOPVIDEO_C2PA_TRUST_ANCHORS (the C2PA trust list) when set,
else the top of the configured chain; only production certificates are validated against a trust list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils.translation import gettext

from .errors import PipelineError

SOURCE_ASSERTION = "com.shopvideo.source"
ACTIONS_ASSERTION = "c2pa.actions.v2"
# Organization name of the development chain's certificates; settings_production refuses a chain that carries it.
DEV_ORGANIZATION = "ShopVideo development (not for production)"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# The IPTC digital source type per engine, chosen for what the engine really does:
# - dit: a trained model (Wan VACE) generates the scene, the person and the motion, and the fidelity lock puts the
#   merchant's real product pixels back into every frame: a composite with trained-algorithmic media, not purely
#   generated media (`trainedAlgorithmicMedia` would deny the real photo in it).
# - compositor: the real photo composited into a procedurally drawn scene; no trained model is involved, so any of
#   the "trained" terms would be false. `compositeSynthetic` is IPTC's term for a composite with synthetic elements.
DIGITAL_SOURCE_TYPES = {
    "dit": IPTC + "compositeWithTrainedAlgorithmicMedia",
    "compositor": IPTC + "compositeSynthetic",
}
ENGINE_AGENTS = {
    "dit": "ShopVideo dit engine: Wan2.1 VACE (diffusers WanVACEPipeline), product pixels locked",
    "compositor": "ShopVideo compositor engine: procedural scene, product pixels composited",
}
MIME_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_HASH_MISMATCH = ("dataHash.mismatch", "bmffHash.mismatch", "boxesHash.mismatch", "collectionHash.mismatch")


class CredentialsError(PipelineError):
    """Signing or its read-back failed: the job fails with this code (and is not charged); retrying cannot help."""

    code = "credentials_failed"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shop-video")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0"


# --- the signing identity ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # end-entity first, then intermediates
    key_pem: bytes
    anchors_pem: str  # what the signer must chain to (see the module docstring)
    development: bool
    trust_list: bool  # anchors are a configured trust list (production only)

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.chain_pem)[0]

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def algorithm(self) -> c2pa.C2paSigningAlg:
        return signing_algorithm(serialization.load_pem_private_key(self.key_pem, password=None))


def signing_algorithm(key) -> c2pa.C2paSigningAlg:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {256: c2pa.C2paSigningAlg.ES256, 384: c2pa.C2paSigningAlg.ES384, 521: c2pa.C2paSigningAlg.ES512}
        if key.curve.key_size in by_curve:
            return by_curve[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256  # C2PA allows RSA only with PSS padding
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise CredentialsError(f"unsupported signing key type {type(key).__name__}")


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def make_chain(
    common_name: str = "ShopVideo development signer",
    *,
    organization: str = DEV_ORGANIZATION,
    serial_number: int | None = None,
    days: int = 3650,
) -> tuple[bytes, bytes, bytes]:
    """A root CA and one end-entity certificate with the key usage C2PA asks for (digitalSignature, the
    emailProtection EKU, not a CA). Returns (chain PEM: end-entity then root, end-entity key PEM, root PEM); the
    root's key is not returned, so the root can never issue another certificate."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{common_name} root", organization)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days + 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(serial_number or x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )  # digitalSignature
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(pem) + root.public_bytes(pem), key_pem, root.public_bytes(pem)


def is_development_chain(chain_pem: bytes) -> bool:
    """True for a chain made by `make_chain` (settings_production refuses it)."""
    for cert in x509.load_pem_x509_certificates(chain_pem):
        for name in (cert.subject, cert.issuer):
            if any(a.value == DEV_ORGANIZATION for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)):
                return True
    return False


def development_chain(directory: Path) -> tuple[Path, Path]:
    """The development chain under `directory`, made on first use (under a file lock: several worker processes
    may start at once) and reused after. Returns (chain path, key path)."""
    directory.mkdir(parents=True, exist_ok=True)
    chain_path, key_path = directory / "dev-chain.pem", directory / "dev-signer.key"
    if chain_path.exists() and key_path.exists():
        return chain_path, key_path
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (chain_path.exists() and key_path.exists()):
            chain, key, _root = make_chain()
            for path, data, mode in ((key_path, key, 0o600), (chain_path, chain, 0o644)):
                tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)  # the key first: a chain file that exists has its key beside it
    return chain_path, key_path


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CredentialsError(f"cannot read the C2PA {what} {path}: {exc.strerror or exc}") from exc


def _stamp(path: str | Path) -> tuple[str, int]:
    with contextlib.suppress(OSError):
        return str(path), Path(path).stat().st_mtime_ns
    return str(path), 0


@lru_cache(maxsize=8)
def _load_identity(chain: tuple[str, int], key: tuple[str, int], anchors: tuple[str, int], dev: bool):
    chain_pem, key_pem = _read(chain[0], "certificate chain"), _read(key[0], "private key")
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
        private_key = serialization.load_pem_private_key(key_pem, password=None)
    except ValueError as exc:
        raise CredentialsError(f"the C2PA certificate chain or key is not valid PEM: {exc}") from exc
    if certs[0].public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise CredentialsError("the C2PA private key does not belong to the chain's first certificate")
    signing_algorithm(private_key)
    if anchors[0]:
        anchors_pem = _read(anchors[0], "trust anchors").decode()
    else:
        anchors_pem = certs[-1].public_bytes(serialization.Encoding.PEM).decode()
    return SigningIdentity(chain_pem, key_pem, anchors_pem, development=dev, trust_list=bool(anchors[0]))


def load_identity() -> SigningIdentity:
    """The configured signing identity (settings are read at call time; files are re-read when they change)."""
    chain, key = settings.SHOPVIDEO_C2PA_CERT_CHAIN, settings.SHOPVIDEO_C2PA_PRIVATE_KEY
    dev = not (chain and key)
    if dev:
        chain, key = development_chain(Path(settings.SHOPVIDEO_C2PA_DEV_DIR))
    # The development chain is anchored on its own root (the chain's last certificate); no trust list applies.
    anchors = "" if dev else settings.SHOPVIDEO_C2PA_TRUST_ANCHORS
    return _load_identity(_stamp(chain), _stamp(key), _stamp(anchors) if anchors else ("", 0), dev)


# --- signing -------------------------------------------------------------------------------------------------------


def manifest_definition(
    *, engine: str, source_photo_sha256: str, market: str, title: str, ai_label: bool = False
) -> dict:
    """The manifest ShopVideo signs onto a file (c2pa-python's manifest definition JSON)."""
    if engine not in DIGITAL_SOURCE_TYPES:
        raise CredentialsError(f"no content credentials defined for engine {engine!r}")
    agent = {"name": ENGINE_AGENTS[engine], "version": _version()}
    return {
        "claim_generator_info": [{"name": "ShopVideo", "version": _version()}],
        "title": title,
        "assertions": [
            {
                "label": ACTIONS_ASSERTION,
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": DIGITAL_SOURCE_TYPES[engine],
                            "softwareAgent": agent,
                            "description": "Product video made from the merchant's product photo",
                        }
                    ]
                },
            },
            {
                "label": SOURCE_ASSERTION,
                "data": {
                    "engine": engine,
                    "source_photo_sha256": source_photo_sha256,
                    "market": market,
                    "visible_ai_label": ai_label,
                },
            },
        ],
    }


def mime_type(path: Path) -> str:
    # The pipeline's temporary files end in ".part": their real suffix is the one before it.
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".part"]
    for suffix in reversed(suffixes):
        if suffix in MIME_TYPES:
            return MIME_TYPES[suffix]
    raise CredentialsError(f"no content credentials for files like {path.name}")


def sign_file(path: str | Path, manifest: dict, identity: SigningIdentity, *, mime: str | None = None) -> None:
    """Embed and sign `manifest` in the file at `path`, in place: the signed file is written beside it and renamed
    over it, so the path always holds either the unsigned or the fully signed file."""
    path = Path(path)
    mime = mime or mime_type(path)
    tmp = path.with_name(f".{path.name}.c2pa-{uuid.uuid4().hex[:8]}")
    info = c2pa.C2paSignerInfo(identity.algorithm, identity.chain_pem, identity.key_pem, _tsa_url())
    try:
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(manifest) as builder,
            open(path, "rb") as source,
            open(tmp, "w+b") as dest,
        ):
            builder.sign(signer, mime, source, dest)
            dest.flush()
            os.fsync(dest.fileno())
        os.replace(tmp, path)
    except c2pa.C2paError as exc:
        raise CredentialsError(f"could not sign {path.name}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _tsa_url() -> str | None:
    return getattr(settings, "SHOPVIDEO_C2PA_TSA_URL", "") or None


def sign_video(
    mp4_path: str | Path,
    poster_path: str | Path,
    *,
    engine: str,
    source_photo_sha256: str,
    market: str,
    preview_path: str | Path | None = None,
    ai_label: bool = False,
) -> dict:
    """Sign the video, its poster (and its preview) and read every one back. Returns the `credentials` entry of
    the output JSON; raises CredentialsError when signing or the read-back fails."""
    if not settings.SHOPVIDEO_C2PA_ENABLED:
        return {"signed": False}
    try:
        return _sign_video(
            mp4_path, poster_path, engine, source_photo_sha256, market, preview_path=preview_path, ai_label=ai_label
        )
    except CredentialsError as exc:
        # The merchant sees this on the job; the reason is technical (for support) and stays as the library said it.
        message = gettext("The content credentials (C2PA) could not be added to the video: %(reason)s")
        raise CredentialsError(message % {"reason": exc.message}) from exc


def _sign_video(
    mp4_path: str | Path,
    poster_path: str | Path,
    engine: str,
    source_photo_sha256: str,
    market: str,
    *,
    preview_path: str | Path | None,
    ai_label: bool,
) -> dict:
    identity = load_identity()
    files = {"video": Path(mp4_path), "poster": Path(poster_path)}
    if preview_path is not None:
        files["preview"] = Path(preview_path)
    checks: dict[str, VerificationResult] = {}
    for role, path in files.items():
        manifest = manifest_definition(
            engine=engine, source_photo_sha256=source_photo_sha256, market=market, title=role, ai_label=ai_label
        )
        sign_file(path, manifest, identity)
        checks[role] = verify(path, identity=identity)
        if not checks[role].verified:
            raise CredentialsError(f"the {role}'s content credentials did not verify: {checks[role].problem}")
    cert = identity.certificate
    return {
        "signed": True,
        "verified": all(c.verified for c in checks.values()),
        "signer": cert.subject.rfc4514_string(),
        "signer_sha256": identity.fingerprint,
        "development_certificate": identity.development,
        "digital_source_type": DIGITAL_SOURCE_TYPES[engine],
        "source_photo_sha256": source_photo_sha256,
        "files": sorted(files),
    }


# --- verification --------------------------------------------------------------------------------------------------


@dataclass
class VerificationResult:
    path: str
    manifest_present: bool = False
    validation_state: str | None = None  # the library's: Invalid, Valid or Trusted
    signature_valid: bool = False
    hash_valid: bool = False  # the hash binding matches the file's bytes
    signer_matches: bool = False  # signed by the configured certificate
    trust_list_checked: bool = False  # the signer was checked against a configured trust list (production)
    failures: list[str] = field(default_factory=list)  # the library's failure codes
    assertions: dict[str, dict] = field(default_factory=dict)  # label → data, of the active manifest
    signer: dict = field(default_factory=dict)  # the signing certificate's serial, issuer and subject
    error: str = ""

    @property
    def verified(self) -> bool:
        return self.manifest_present and self.signature_valid and self.hash_valid and self.signer_matches

    @property
    def problem(self) -> str:
        if self.error:
            return self.error
        if not self.manifest_present:
            return "no manifest"
        parts = [f for f in self.failures if f != "signingCredential.untrusted" or not self.signer_matches]
        if not self.signer_matches and "signingCredential.untrusted" not in parts:
            parts.append("signer is not the configured certificate")
        return ", ".join(parts) or "ok"

    @property
    def actions(self) -> list[dict]:
        return list((self.assertions.get(ACTIONS_ASSERTION) or {}).get("actions", []))

    @property
    def digital_source_type(self) -> str | None:
        return next((a.get("digitalSourceType") for a in self.actions if a.get("action") == "c2pa.created"), None)

    @property
    def source(self) -> dict:
        return dict(self.assertions.get(SOURCE_ASSERTION) or {})

    def summary(self) -> dict:
        return {**asdict(self), "verified": self.verified}


def _reader_context(anchors_pem: str) -> c2pa.Context:
    return c2pa.Context(
        c2pa.Settings.from_dict(
            {
                "trust": {"user_anchors": anchors_pem},
                # No network: no OCSP or remote manifests, and no trust list fetched from anywhere.
                "verify": {"verify_trust": True, "ocsp_fetch": False, "remote_manifest_fetch": False},
            }
        )
    )


def _certificate_info(reader: c2pa.Reader, label: str) -> dict:
    for manifest in json.loads(reader.crjson()).get("manifests", []):
        if manifest.get("label") == label:
            return (manifest.get("signature") or {}).get("certificateInfo") or {}
    return {}


_DN_KEYS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
}


def _same_name(reported: dict, name: x509.Name) -> bool:
    """The reader's name (a dict of short attribute names) against a certificate's: the common name must be there
    and every attribute both know must agree."""
    if not reported.get("CN"):
        return False
    for key, oid in _DN_KEYS.items():
        values = [a.value for a in name.get_attributes_for_oid(oid)]
        if key in reported and ([reported[key]] if isinstance(reported[key], str) else reported[key]) != values:
            return False
    return True


def verify(path: str | Path, *, identity: SigningIdentity | None = None) -> VerificationResult:
    """Read the file's content credentials back and check them (see the module docstring)."""
    path = Path(path)
    result = VerificationResult(path=str(path))
    identity = identity or load_identity()
    try:
        with open(path, "rb") as fh:
            reader = c2pa.Reader.try_create(mime_type(path), fh, None, _reader_context(identity.anchors_pem))
            if reader is None:
                return result
            with reader:
                active = reader.get_active_manifest() or {}
                results = (reader.get_validation_results() or {}).get("activeManifest") or {}
                result.manifest_present = bool(active)
                result.validation_state = reader.get_validation_state()
                cert_info = _certificate_info(reader, active.get("label", ""))
    except c2pa.C2paError as exc:
        # A manifest that cannot even be parsed (a changed byte inside the manifest store) is a failed check.
        result.error = f"{type(exc).__name__}: {exc}"
        result.manifest_present = True
        return result
    result.assertions = {a["label"]: a.get("data") or {} for a in active.get("assertions", [])}
    success = {s["code"] for s in results.get("success", [])}
    result.failures = [f["code"] for f in results.get("failure", [])]
    result.signature_valid = "claimSignature.validated" in success and not any(
        code.startswith("claimSignature.") for code in result.failures
    )
    bound = {c for c in success if c.endswith("Hash.match")}
    result.hash_valid = bool(bound) and not any(code.endswith(_HASH_MISMATCH) for code in result.failures)
    result.hash_valid = result.hash_valid and not any(code.startswith("assertion.") for code in result.failures)
    cert = identity.certificate
    result.signer = {
        "serial": cert_info.get("serialNumber", ""),
        "issuer": cert_info.get("issuer", {}),
        "subject": cert_info.get("subject", {}),
    }
    same_certificate = (
        int(cert_info.get("serialNumber") or "0", 16) == cert.serial_number
        and _same_name(cert_info.get("issuer") or {}, cert.issuer)
        and _same_name(cert_info.get("subject") or {}, cert.subject)
    )
    chained = "signingCredential.trusted" in success and "signingCredential.untrusted" not in result.failures
    result.signer_matches = same_certificate and chained
    result.trust_list_checked = identity.trust_list
    return result
