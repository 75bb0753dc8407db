"""The one mapping from domain errors to what the visitor reads (French source text).

Each message is marked with ``N_`` for extraction and translated at render time by the
template's ``_()``.
"""

from __future__ import annotations

from portail_domain.model.errors import DomainError


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "extract, translate later"
    return text


MESSAGES: dict[str, str] = {
    "domain_error": N_("La demande n'a pas pu être traitée."),
    "not_found": N_("Cette page n'existe pas ou n'est pas accessible avec votre compte."),
    "admin_only": N_("Cette page est réservée aux administrateurs."),
    "second_factor_failed": N_("Code incorrect, expiré ou déjà utilisé. Saisissez le code affiché maintenant par votre "
                               "application, ou un code de secours."),
    "staff_own_account": N_("Vous ne pouvez pas faire cela sur votre propre compte : demandez-le à un autre "
                            "administrateur."),
    "invalid_role": N_("Choisissez le rôle agent ou administrateur."),
    "staff_disabled": N_("Ce membre de l'équipe est désactivé."),
    "invalid_value": N_("Une valeur saisie n'est pas valide."),
    "reason_required": N_("Indiquez le motif du refus : il est envoyé à l'abonné."),
    "already_reviewed": N_("Ce relevé a déjà été traité par un autre membre de l'équipe."),
    "invalid_decision": N_("Choisissez de valider ou de refuser le relevé."),
    "invalid_resolution": N_("Choisissez un traitement : encaissé, remboursé ou annulé."),
    "payment_resolved": N_("Ce paiement a déjà été traité."),
    "settle_refused": N_("Le service de paiement ne confirme pas un paiement conforme, ou la facture ne doit plus ce "
                         "montant : la facture n'est pas créditée. Remboursez le paiement ou interrogez à nouveau le "
                         "service plus tard."),
    "cancel_refused": N_("De l'argent a été prélevé pour ce paiement : il ne peut pas être annulé. Encaissez-le ou "
                         "remboursez-le."),
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
    "invoice_on_direct_debit": N_(
        "Cette facture est réglée par prélèvement automatique à son échéance : rien à payer en ligne."
    ),
    "payment_mismatch": N_(
        "Le résultat du paiement ne correspond pas à la facture : il sera vérifié par nos services."
    ),
    "payment_state": N_("Ce paiement est déjà terminé."),
    "gateway_error": N_("Le service de paiement ne répond pas. Réessayez dans quelques minutes."),
    # What PayFiP would refuse, said before asking it (portail_adapters.payment.payfip).
    "payment_unavailable": N_(
        "Le paiement en ligne n'est pas disponible pour le moment. Réglez la facture par un autre moyen indiqué "
        "sur la facture, ou contactez le service des eaux."
    ),
    "payment_email_unusable": N_(
        "Le service de paiement en ligne demande une adresse e-mail de 6 à 80 caractères pour vous envoyer le "
        "justificatif de paiement. Changez votre adresse dans Mes données personnelles, ou réglez la facture par "
        "un autre moyen indiqué sur la facture."
    ),
    "payment_amount_out_of_range": N_(
        "Le paiement en ligne accepte les montants de 1 € à 100 000 €. Réglez cette facture par un autre moyen "
        "indiqué sur la facture."
    ),
    "storage_error": N_("Le stockage des documents ne répond pas. Réessayez dans quelques minutes."),
    "service_unavailable": N_("Le service est momentanément indisponible. Réessayez dans quelques instants."),
    "upload_rejected": N_("Ce fichier n'a pas pu être enregistré."),
    "file_empty": N_("Le fichier envoyé est vide."),
    "file_type": N_("Ce type de fichier n'est pas accepté : envoyez un document PDF, JPEG ou PNG."),
    "file_too_large": N_("Le fichier dépasse la taille autorisée (%(upload_max)s par fichier)."),
    "quota_exceeded": N_(
        "Votre espace documents est plein (%(upload_quota)s) : ce fichier ne peut pas être ajouté."
    ),
    "request_closed": N_("Cette demande est close."),
    # Mes demandes: the fields of a request or message.
    "request_invalid": N_("Vérifiez ce champ."),
    "request_category_invalid": N_("Choisissez le type de demande dans la liste."),
    "request_subject_missing": N_("Indiquez l'objet de votre demande."),
    "request_subject_too_long": N_("L'objet ne doit pas dépasser 200 caractères."),
    "request_message_missing": N_("Écrivez votre message."),
    "request_message_too_long": N_("Le message ne doit pas dépasser 5000 caractères."),
    "move_address_missing": N_("Indiquez votre nouvelle adresse : la facture de clôture y sera envoyée."),
    "move_occupant_missing": N_("Indiquez le nom de l'occupant du logement."),
    "move_date_invalid": N_("Saisissez la date au format AAAA-MM-JJ, par exemple 2026-03-10."),
    "request_value_too_long": N_("Ce champ est trop long."),
    "request_reference_taken": N_("La demande n'a pas pu être enregistrée. Réessayez dans quelques instants."),
    "status_goes_back": N_("Le statut d'une demande ne peut pas revenir en arrière."),
    # The requests desk (back office).
    "request_reason_missing": N_("Indiquez le motif de clôture : l'abonné le verra dans la réponse."),
    "request_note_missing": N_("Écrivez la note (5000 caractères au plus)."),
    "request_assignee_unknown": N_("Choisissez un membre actif de l'équipe dans la liste."),
    "reply_template_invalid": N_("Vérifiez ce champ : type de demande dans la liste, titre de 100 caractères au plus, "
                                 "texte non vide."),
    "relief_invalid": N_("Choisissez « accorder » ou « refuser » ; un refus doit être motivé."),
    "relief_not_applicable": N_("Aucune décision d'écrêtement n'est possible sur cette demande (pas d'avis de "
                                "consommation anormale, ou décision déjà prise)."),
    # Publier un document (back office).
    "audience_invalid": N_("Choisissez les destinataires : un abonné, tous les abonnés, les abonnés d'un code postal "
                           "(5 chiffres) ou ceux d'un service (eau, assainissement)."),
    "audience_number_missing": N_("Saisissez le numéro de l'abonné."),
    "audience_ambiguous": N_("Choisissez un abonné ou un ensemble d'abonnés, pas les deux : videz le numéro d'abonné, "
                             "ou choisissez « Un abonné »."),
    "audience_empty": N_("Aucun abonné ne correspond à ces destinataires : rien n'a été publié."),
    "publish_folder_unknown": N_("Choisissez le dossier dans la liste : Contrats, Factures, Courriers ou Mes envois."),
    "publish_file_missing": N_("Choisissez le fichier à publier."),
    "login_failed": N_("Identifiant ou mot de passe incorrect."),
    # Accounts: links, passwords, login throttling, personal data.
    "login_throttled": N_(
        "Trop de tentatives de connexion. Patientez quelques instants avant de réessayer (jusqu'à 15 minutes "
        "après de nombreux échecs), ou renouvelez votre mot de passe."
    ),
    "code_missing": N_("Saisissez votre code : votre numéro d'abonné ou le code d'activation reçu par courrier."),
    "link_invalid": N_(
        "Ce lien n'est plus valide : il a déjà servi, un lien plus récent l'a remplacé, ou ses 10 minutes "
        "sont passées. Demandez un nouveau lien."
    ),
    "password_rejected": N_("Ce mot de passe ne peut pas être utilisé. Choisissez-en un autre."),
    "password_mismatch": N_("Les deux mots de passe saisis sont différents. Saisissez deux fois le même."),
    "password_too_short": N_(
        "Choisissez un mot de passe d'au moins 12 caractères : une phrase de plusieurs mots est facile à retenir."
    ),
    "password_too_long": N_("Choisissez un mot de passe de 128 caractères au plus."),
    "password_too_common": N_(
        "Ce mot de passe est trop courant et facile à deviner. Choisissez plutôt une phrase de plusieurs mots."
    ),
    "password_personal": N_(
        "Le mot de passe ne doit contenir ni votre numéro d'abonné, ni votre adresse e-mail, ni le nom du "
        "service des eaux. Choisissez une phrase qui n'a rien à voir avec votre compte."
    ),
    "wrong_password": N_("Le mot de passe actuel saisi est incorrect."),
    "email_unavailable": N_("Cette adresse e-mail ne peut pas être utilisée pour ce compte. Saisissez-en une autre."),
    "invalid_phone": N_("Saisissez un numéro de téléphone avec des chiffres, par exemple 06 12 34 56 78."),
    "invalid_postal_code": N_("Saisissez un code postal valide, par exemple 34230."),
    "invalid_language": N_("Choisissez la langue dans la liste."),
    "value_too_long": N_("Une valeur saisie est trop longue."),
    "logged_out": N_("Vous êtes déconnecté. À bientôt !"),
    "password_saved": N_("Votre mot de passe est enregistré. Connectez-vous avec votre e-mail et ce mot de passe."),
    "data_saved": N_("Vos données personnelles sont enregistrées."),
    "password_changed": N_("Votre mot de passe est modifié. Vos autres sessions ont été fermées."),
    "email_link_sent": N_(
        "Un lien de confirmation a été envoyé à la nouvelle adresse. Cliquez dessus dans les 10 minutes "
        "pour terminer le changement."
    ),
    "email_changed": N_("Votre nouvelle adresse e-mail est enregistrée : utilisez-la pour vous connecter."),
    "sessions_ended": N_("Vos autres sessions ont été fermées."),
    "account_closed": N_(
        "Votre compte du portail est fermé et vos sessions sont terminées. Votre abonnement, vos contrats, relèves, "
        "factures et paiements restent enregistrés par le service des eaux pour la facturation, pendant les durées "
        "de conservation indiquées dans « Données personnelles et cookies ». Vous pouvez rouvrir un compte à tout "
        "moment avec « Créer / Renouveler mot de passe »."
    ),
    # Prélèvement automatique (SEPA mandates).
    "invalid_iban": N_("Cet IBAN n'est pas valide : vérifiez sa longueur et chacun de ses caractères."),
    "iban_not_sepa": N_("Cet IBAN est celui d'un pays hors de la zone SEPA : le prélèvement n'y est pas possible."),
    "bic_required": N_("Votre banque n'a pas pu être reconnue : saisissez son BIC (8 ou 11 caractères)."),
    "invalid_bic": N_("Ce BIC n'est pas valide : 8 ou 11 caractères, par exemple BNPAFRPP."),
    "invalid_holder": N_("Indiquez le nom du titulaire du compte (70 caractères au plus)."),
    "invalid_mode": N_("Choisissez le mode de prélèvement."),
    "mandate_error": N_("Le mandat n'a pas pu être enregistré."),
    "mandate_no_email": N_(
        "Le code de signature est envoyé par e-mail : indiquez d'abord une adresse e-mail dans Mes données "
        "personnelles."
    ),
    "mandate_contract_ended": N_("Ce contrat est terminé : il ne peut plus être réglé par prélèvement."),
    "mandate_none_pending": N_(
        "Aucun mandat n'attend de signature : il est déjà signé, ou une nouvelle demande l'a remplacé."
    ),
    "mandate_wrong_code": N_("Ce code est incorrect. Essais restants : %(tries_left)s."),
    "mandate_code_dead": N_(
        "Ce code n'est plus valable (10 minutes passées ou 5 essais utilisés). Recommencez la demande pour "
        "recevoir un nouveau code."
    ),
    "mandate_not_active": N_("Ce mandat est déjà révoqué."),
    "mandate_code_sent": N_(
        "Un code de signature vient de vous être envoyé par e-mail. Saisissez-le ci-dessous dans les 10 minutes."
    ),
    "mandate_signed": N_(
        "Votre mandat est signé. Il est classé dans Mes documents, dossier Contrats, et une confirmation vous a été "
        "envoyée par e-mail."
    ),
    "mandate_revoked": N_("Votre mandat est révoqué : plus aucun prélèvement ne sera fait avec lui."),
    "photo_rejected": N_("La photo n'a pas pu être enregistrée."),
    "photo_not_image": N_("La photo doit être une image JPEG ou PNG."),
    "photo_too_large": N_("La photo dépasse %(upload_max)s : envoyez une image plus légère."),
}


# The accessibility statuses (``AccessibilityStatus`` values), translated where the footer prints them.
ACCESSIBILITY_STATUSES = (N_("conforme"), N_("partiellement conforme"), N_("non conforme"))


# The key of the data export (``/donnees-personnelles/export``): what each section of the file holds.
EXPORT_KEY: dict[str, str] = {
    "exported_at": N_("Date et heure de l'export (UTC)."),
    "personal_data": N_("Vos coordonnées telles que le service des eaux les connaît : numéro d'abonné, nom, e-mail, "
                        "téléphone, adresse, langue, choix de la facture électronique et des relances par "
                        "e-mail."),
    "account": N_("Votre compte du portail : identifiant, date de création, dernier changement de mot de passe, "
                  "dernière connexion (le mot de passe lui-même n'est jamais conservé en clair, ni exporté)."),
    "contracts": N_("Vos contrats d'abonnement : service, adresse desservie, compteur, dates."),
    "readings": N_("Les relèves de vos compteurs (index en m³), leur origine et leur état."),
    "overconsumption_notices": N_("Les alertes de consommation anormale qui vous ont été envoyées, et leur date."),
    "invoices": N_("Vos factures : montants en euros, dates, état."),
    "payments": N_("Vos paiements en ligne : montant, service de paiement, référence, état, dates."),
    "requests": N_("Vos demandes, les formulaires de déménagement ou d'emménagement, et tous les messages "
                   "échangés avec le service des eaux."),
    "mandates": N_("Vos mandats de prélèvement SEPA : référence unique (RUM), contrat, titulaire, IBAN masqué, "
                   "état, preuves de signature (date, adresse IP, navigateur) ; le mandat signé complet est "
                   "dans Mes documents."),
    "documents": N_("La liste de vos documents (nom, dossier, taille, empreinte SHA-256) ; les fichiers se "
                    "téléchargent dans Mes documents."),
    "sessions": N_("Les sessions ouvertes sur votre compte : navigateur, adresse IP, dates."),
    "security_events": N_("Le journal de sécurité de votre compte : connexions, échecs, changements de mot de "
                          "passe, avec l'adresse IP."),
}


def message_for(error: DomainError) -> str:
    """The untranslated (French) message of a domain error, most specific class first."""
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code in MESSAGES:
            return MESSAGES[code]
    return MESSAGES["domain_error"]
