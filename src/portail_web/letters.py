"""Printed letters, as PDF (fpdf2): the activation letter that carries a new activation code.

A4, for a French window envelope (DL, window on the right): the subscriber's address sits where
the window is, about 110 mm from the left edge and 45 mm from the top. The letter is built in
memory and answered as a download; it is never stored, so the code exists in clear only on it.
Core fonts (Helvetica, Courier) speak Latin-1: other characters are written as their closest
Latin-1 form, and never make the letter fail.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from fpdf import FPDF

from portail_domain.model.support import ActivationLetter
from portail_domain.portal import UtilityCard

from .formatting import day
from .i18n import translations

# Window of a DL envelope "fenêtre à droite" (45 x 100 mm, 100 mm from the left, 45 mm from the top
# of the folded letter), with a margin inside it.
WINDOW_X, WINDOW_Y, WINDOW_WIDTH, WINDOW_HEIGHT = 110.0, 50.0, 85.0, 35.0
MARGIN = 20.0
_REPLACE = {"œ": "oe", "Œ": "OE", "€": "EUR", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
            "…": "...", "\u202f": " ", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d"}


def latin1(text: str) -> str:
    """``text`` in what the PDF core fonts can draw (accents kept where Latin-1 has them)."""
    out = []
    for ch in text:
        ch = _REPLACE.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            ch = bare if bare and all(ord(c) < 256 for c in bare) else "?"
        out.append(ch)
    return "".join(out)


class _Letter(FPDF):
    def write_lines(self, x: float, lines: list[str], *, size: float = 10, style: str = "", height: float = 5) -> None:
        self.set_font("Helvetica", style, size)
        for line in lines:
            self.set_x(x)
            self.multi_cell(0 if x == MARGIN else WINDOW_WIDTH, height, latin1(line), new_x="LMARGIN", new_y="NEXT")


def activation_letter_pdf(letter: ActivationLetter, utility: UtilityCard, *, base_url: str, language: str,
                          today: date, link_minutes: int) -> bytes:
    """The letter: the utility's card, the address block in the envelope's window, the code, the
    portal's address and the steps of the first sign-in (the user manual's, with the code)."""
    _ = translations(language).gettext
    subscriber = letter.subscriber
    pdf = _Letter(format="A4", unit="mm")
    pdf.set_margins(MARGIN, 15, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(latin1(_("Votre code d'activation du portail usager")))
    pdf.set_author(latin1(utility.name))
    pdf.add_page()

    pdf.set_y(15)
    pdf.write_lines(MARGIN, [utility.name], size=12, style="B")
    card = [*(a.strip() for a in utility.address.split(",")), utility.phone, utility.email, utility.hours]
    pdf.write_lines(MARGIN, card, size=9, height=4.5)

    pdf.set_y(WINDOW_Y)
    city_line = " ".join(part for part in (subscriber.postal_code, subscriber.city.upper()) if part)
    address = [subscriber.name, *[a.strip() for a in subscriber.address.split(",") if a.strip()], city_line]
    pdf.write_lines(WINDOW_X, [line for line in address if line][:6], size=11)

    pdf.set_y(WINDOW_Y + WINDOW_HEIGHT + 10)
    pdf.write_lines(MARGIN, [_("Le %(date)s") % {"date": day(today, language, "long")}], size=10)
    pdf.ln(4)
    pdf.write_lines(MARGIN, [_("Objet : votre code d'activation du portail usager")], style="B")
    pdf.write_lines(MARGIN, [_("Abonné n° %(number)s") % {"number": subscriber.number}])
    pdf.ln(4)
    pdf.write_lines(MARGIN, [
        _("Madame, Monsieur,"),
        _("Voici votre code d'activation personnel. Il vous permet de créer le mot de passe de votre compte "
          "sur le portail usager, où vous retrouvez vos contrats, vos factures et vos consommations. Il "
          "remplace tout code envoyé auparavant."),
    ])
    pdf.ln(3)
    pdf.set_font("Courier", "B", 18)
    pdf.cell(0, 12, latin1(letter.code), border=1, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.write_lines(MARGIN, [_("Pour activer votre compte :")], style="B")
    steps = [
        _("Rendez-vous sur %(url)s et cliquez sur « Créer / Renouveler mot de passe ».") % {"url": base_url},
        _("Saisissez votre adresse e-mail et le code d'activation ci-dessus, puis validez."),
        _("Consultez votre boîte mail et cliquez sur le lien reçu : il n'est valable que %(minutes)d minutes.")
        % {"minutes": link_minutes},
        _("Saisissez votre nouveau mot de passe et confirmez-le. Choisissez un mot de passe différent de "
          "votre numéro d'abonné."),
        _("Connectez-vous ensuite avec votre adresse e-mail et votre nouveau mot de passe."),
    ]
    pdf.write_lines(MARGIN, [f"{n}. {step}" for n, step in enumerate(steps, 1)])
    pdf.ln(3)
    pdf.write_lines(MARGIN, [
        _("Gardez ce code pour vous : nos services ne vous le demanderont jamais. Pour toute question, "
          "contactez-nous au %(phone)s ou à %(email)s.") % {"phone": utility.phone, "email": utility.email},
    ], size=9)
    return bytes(pdf.output())
