"""``ports.Printer`` with fpdf2: the PDFs the portal files for the subscriber, in their language."""

from __future__ import annotations

from fpdf import FPDF

from portail_domain.model.mandates import MandateDocument

from . import formatting, mandate_wording
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, translations

# The PDF core fonts (no font file to ship) cover Latin-1: French fits, a few signs are spelt out.
_LATIN1 = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2019": "'", "\u2013": "-", "\u2014": "-", "\u2022": "*",
                         "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR"})


def latin1(text: str) -> str:
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


class PdfPrinter:
    """A4 documents in Helvetica, the wording from the UI's catalogs."""

    def mandate(self, document: MandateDocument) -> bytes:
        """The signed mandate: the only place besides the billing export where the IBAN is whole."""
        language = document.language if document.language in LANGUAGES else DEFAULT_LANGUAGE
        _ = translations(language).gettext
        mandate, creditor = document.mandate, document.creditor
        pdf = FPDF(format="A4")
        pdf.set_title(latin1(_(mandate_wording.TITLE)))
        pdf.set_creator("Portail usager")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()

        def heading(text: str) -> None:
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 11)
            pdf.multi_cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Helvetica", "", 10)

        def line(label: str, value: str) -> None:
            pdf.multi_cell(0, 5.5, latin1(f"{label} : {value}"), new_x="LMARGIN", new_y="NEXT")

        pdf.set_font("Helvetica", "B", 16)
        pdf.multi_cell(0, 9, latin1(_(mandate_wording.TITLE)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        line(_("Référence unique du mandat (RUM)"), mandate.rum)
        pdf.multi_cell(0, 5.5, latin1(_(mandate_wording.PAYMENT_TYPE)), new_x="LMARGIN", new_y="NEXT")
        heading(_("Créancier"))
        line(_("Nom"), creditor.name)
        line(_("Identifiant créancier SEPA (ICS)"), creditor.identifier)
        line(_("Adresse"), document.creditor_address)
        heading(_("Débiteur"))
        line(_("Titulaire du compte"), mandate.holder)
        if document.debtor_address:
            line(_("Adresse"), document.debtor_address)
        line(_("IBAN"), mandate.account.formatted)
        line(_("BIC"), mandate.account.bic)
        heading(_("Contrat"))
        line(_("Numéro"), document.contract_number)
        line(_("Adresse de desserte"), document.supply_address)
        line(_("Mode"), _(mandate_wording.MODES[mandate.mode.value]))
        heading(_("Autorisation"))
        for paragraph in mandate_wording.WORDING:
            pdf.multi_cell(0, 5.5, latin1(_(paragraph) % {"creditor": creditor.name}), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        if mandate.evidence is not None:
            evidence = mandate.evidence
            heading(_("Signature électronique"))
            line(_("Signé le"), formatting.moment(evidence.signed_at, language))
            line(_("Par la saisie du code envoyé à"), document.email)
            line(_("Depuis l'adresse"), evidence.client_address or "-")
            line(_("Navigateur"), evidence.user_agent[:120] or "-")
            line(_("Empreinte du code (HMAC-SHA256)"), evidence.code_hash)
        return bytes(pdf.output())
