"""The wording of a SEPA direct-debit mandate: one text for the page and the signed PDF.

The legal paragraphs are those of the French standard SEPA mandate form (the EPC rulebook's
mandatory text, as French banks print it); ``%(creditor)s`` is the creditor's name.
"""

from __future__ import annotations

from .messages import N_

TITLE = N_("Mandat de prélèvement SEPA")
PAYMENT_TYPE = N_("Type de paiement : récurrent")
WORDING = (
    N_("En signant ce formulaire de mandat, vous autorisez %(creditor)s à envoyer des instructions à votre banque "
       "pour débiter votre compte, et votre banque à débiter votre compte conformément aux instructions de "
       "%(creditor)s."),
    N_("Vous bénéficiez du droit d'être remboursé par votre banque selon les conditions décrites dans la convention "
       "que vous avez passée avec elle. Une demande de remboursement doit être présentée dans les 8 semaines suivant "
       "la date de débit de votre compte pour un prélèvement autorisé."),
    N_("Vos droits concernant le présent mandat sont expliqués dans un document que vous pouvez obtenir auprès de "
       "votre banque."),
)
MODES = {
    "echeance": N_("Prélèvement à l'échéance : chaque facture est prélevée à sa date d'échéance"),
    "mensuel": N_("Mensualisation : prélèvements mensuels selon l'échéancier"),
}
