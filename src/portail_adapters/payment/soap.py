"""A small SOAP 1.1 client for PayFiP's two operations, on the standard library only.

Why not zeep: PayFiP's published WSDL references XSD files that do not resolve (every zeep
user ships a patched local copy), and we call exactly two document/literal operations with
flat string fields. Building those envelopes with ``xml.etree`` and posting them with
``urllib`` is ~100 tested lines and keeps every byte we send visible.

What we send is what the real service is recorded accepting: no XML declaration, no empty
``Header``, the fields of ``arg0`` unqualified (see docs/payfip.md).

What we read goes through ``defusedxml`` with DTDs forbidden: SOAP forbids document type
declarations, and the parser (not a byte search, which another encoding walks around) refuses
any, so no entity of any kind (internal, external, parameter) is ever processed, whatever the
document's encoding.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = ("http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
              "contrat_paiement_securise/PaiementSecuriseService")
FAULT_KINDS = ("FonctionnelleErreur", "TechDysfonctionnementErreur", "TechIndisponibiliteErreur",
               "TechProtocolaireErreur")
MAX_RESPONSE = 256 * 1024


class SoapFault(Exception):
    """The service answered a SOAP fault; PayFiP's business faults carry a ``code`` (P1, P5…)."""

    def __init__(self, kind: str, code: str, message: str) -> None:
        super().__init__(f"{kind} {code}: {message}")
        self.kind = kind
        self.code = code
        self.message = message


class SoapTransportError(Exception):
    """The service could not be reached or did not answer SOAP."""


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def envelope(operation: str, fields: Mapping[str, str]) -> bytes:
    """``<Envelope><Body><pai:operation><arg0><field>value</field>…`` (values escaped by etree).

    No XML declaration (UTF-8 is XML's default) and no empty ``Header``: no recorded exchange
    shows the real service receiving either.
    """
    ET.register_namespace("soapenv", SOAP_ENV)
    ET.register_namespace("pai", SERVICE_NS)
    root = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    body = ET.SubElement(root, f"{{{SOAP_ENV}}}Body")
    call = ET.SubElement(body, f"{{{SERVICE_NS}}}{operation}")
    arg = ET.SubElement(call, "arg0")
    for name, value in fields.items():
        ET.SubElement(arg, name).text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def parse_xml(data: bytes) -> ET.Element:
    """Parse a SOAP message in any encoding the parser knows; a DTD (the door to entity
    attacks) is refused by the parser itself, so no encoding trick walks around it."""
    try:
        return _defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ET.ParseError(f"a SOAP message carries no document type declaration ({type(exc).__name__})") from None
    except ValueError as exc:  # e.g. a declared encoding expat cannot read ("utf-16-le")
        raise ET.ParseError(str(exc)) from None


def parse_call(data: bytes) -> tuple[str, dict[str, str]]:
    """The operation name and ``arg0`` fields of a request envelope (used by the stand-in)."""
    root = parse_xml(data)
    body = next((child for child in root if local(child.tag) == "Body"), None)
    if local(root.tag) != "Envelope" or body is None or len(body) == 0:
        raise ValueError("not a SOAP envelope")
    call = body[0]
    arg = next((child for child in call if local(child.tag) == "arg0"), None)
    fields = {local(child.tag): (child.text or "").strip() for child in (arg if arg is not None else [])}
    return local(call.tag), fields


def parse_response(data: bytes) -> dict[str, str]:
    """The fields of ``<return>`` in a response envelope; raise ``SoapFault`` for a fault."""
    try:
        root = parse_xml(data)
    except ET.ParseError as exc:
        raise SoapTransportError(f"the answer is not XML: {exc}") from None
    body = next((child for child in root if local(child.tag) == "Body"), None)
    if local(root.tag) != "Envelope" or body is None or len(body) == 0:
        raise SoapTransportError("the answer is not a SOAP envelope")
    answer = body[0]
    if local(answer.tag) == "Fault":
        raise _fault(answer)
    returned = next((el for el in answer.iter() if local(el.tag) == "return"), None)
    if returned is None:
        raise SoapTransportError(f"no <return> in {local(answer.tag)}")
    return {local(child.tag): (child.text or "").strip() for child in returned}


def _fault(fault: ET.Element) -> SoapFault:
    faultstring = next((el.text or "" for el in fault if local(el.tag) == "faultstring"), "")
    for element in fault.iter():
        if local(element.tag) in FAULT_KINDS:
            parts = {local(child.tag): (child.text or "").strip() for child in element}
            message = parts.get("libelle") or parts.get("descriptif") or faultstring
            return SoapFault(local(element.tag), parts.get("code", ""), message)
    return SoapFault("Fault", "", faultstring.strip())


def call(url: str, operation: str, fields: Mapping[str, str], *, timeout: float = 15) -> dict[str, str]:
    """POST one operation and return its ``<return>`` fields."""
    request = urllib.request.Request(  # noqa: S310 - the URL comes from the settings, http(s) only
        url, data=envelope(operation, fields), method="POST",
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    if not url.startswith(("https://", "http://")):
        raise SoapTransportError(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read(MAX_RESPONSE)
    except urllib.error.HTTPError as exc:  # SOAP 1.1 faults come with HTTP 500
        data = exc.read(MAX_RESPONSE)
        if not data:
            raise SoapTransportError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SoapTransportError(str(getattr(exc, "reason", exc))) from None
    return parse_response(data)
