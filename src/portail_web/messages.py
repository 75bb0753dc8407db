"""The one mapping from domain errors to what the visitor reads (French source text).

Each message is marked with ``N_`` for extraction and translated at render time by the
template's ``_()``.
"""

from __future__ import annotations

from portail_domain.errors import DomainError


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "extract, translate later"
    return text


MESSAGES: dict[str, str] = {
    "domain_error": N_("La demande n'a pas pu être traitée."),
    "not_found": N_("Cette page n'existe pas ou n'est pas accessible avec votre compte."),
    "invalid_value": N_("Une valeur saisie n'est pas valide."),
    "invalid_email": N_("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."),
    "invalid_amount": N_("Saisissez un montant en euros, par exemple 12,50."),
    "invalid_index": N_("Saisissez l'index avec des chiffres (jusqu'à 3 décimales), par exemple 1234 ou 1234,5."),
    "reading_in_future": N_("La date de relève ne peut pas être dans le futur."),
    "reading_before_contract": N_("La date de relève est antérieure au début du contrat."),
    "reading_after_contract_end": N_("La date de relève est postérieure à la fin du contrat."),
    "reading_before_last": N_("La date de relève est antérieure à la dernière relève de ce compteur."),
    "reading_duplicate_day": N_("Une relève existe déjà pour ce compteur à cette date."),
    "index_goes_down": N_("L'index saisi est inférieur au dernier index connu de ce compteur."),
    "wrong_meter": N_("Ce compteur n'est pas celui du contrat."),
    "index_too_large": N_("L'index saisi a plus de chiffres que le compteur n'en affiche."),
    "invoice_not_payable": N_("Cette facture n'est pas à payer."),
    "invoice_already_paid": N_("Cette facture est déjà réglée."),
    "invoice_cancelled": N_("Cette facture est annulée."),
    "payment_mismatch": N_(
        "Le résultat du paiement ne correspond pas à la facture : il sera vérifié par nos services."
    ),
    "payment_state": N_("Ce paiement est déjà terminé."),
    "gateway_error": N_("Le service de paiement ne répond pas. Réessayez dans quelques minutes."),
    "storage_error": N_("Le stockage des documents ne répond pas. Réessayez dans quelques minutes."),
    "request_closed": N_("Cette demande est close."),
    "status_goes_back": N_("Le statut d'une demande ne peut pas revenir en arrière."),
    "login_failed": N_("Identifiant ou mot de passe incorrect."),
    "photo_rejected": N_("La photo n'a pas pu être enregistrée."),
    "photo_not_image": N_("La photo doit être une image JPEG ou PNG."),
    "photo_too_large": N_("La photo dépasse 10 Mo : envoyez une image plus légère."),
}


def message_for(error: DomainError) -> str:
    """The untranslated (French) message of a domain error, most specific class first."""
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code in MESSAGES:
            return MESSAGES[code]
    return MESSAGES["domain_error"]
