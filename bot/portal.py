"""What the portal shows a verified account: its home, as the portal's own guide pictures it,
and a short, plain guide to each trámite of its list, with the documents it usually needs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_

PORTAL_URL = "https://tramites.serviciomigraciones.cl"


@dataclass(frozen=True)
class Tramite:
    key: str
    name: str  # the portal's own name (Spanish msgid)
    purpose: str
    who: str
    documents: tuple[str, ...]
    url: str = PORTAL_URL


GUIDES: tuple[Tramite, ...] = (
    Tramite(
        key="residencia_nna",
        name=N_("Solicitud de Residencias temporales para extranjeros dentro de Chile"),
        purpose=N_(
            "Sirve para pedir la residencia temporal de un niño, niña o adolescente que vive en "
            "Chile (Programa Niñez Migrante)."
        ),
        who=N_(
            "La pide el adulto a cargo, para un niño, niña o adolescente extranjero menor de 18 "
            "años, sea cual sea la situación migratoria de su familia."
        ),
        documents=(
            N_("Documento de identidad o certificado de nacimiento del niño, niña o adolescente"),
            N_("Una foto del niño, niña o adolescente"),
            N_(
                "Prueba de que vive en Chile: carnet de control de salud, matrícula escolar o "
                "carnet de vacunas"
            ),
            N_("Documento de identidad del adulto, con la declaración de cuidado"),
        ),
    ),
    Tramite(
        key="permanencia",
        name=N_("Certificado de Permanencia Definitiva"),
        purpose=N_("Sirve para obtener el certificado de una residencia definitiva ya concedida."),
        who=N_("Lo pide quien ya tiene la residencia definitiva en Chile."),
        documents=(N_("Documento de identidad vigente"),),
    ),
    Tramite(
        key="estado",
        name=N_("Consulta de Estado de Beneficios Migratorios"),
        purpose=N_("Sirve para ver en qué va una solicitud ya presentada."),
        who=N_("La usa quien ya presentó una solicitud."),
        documents=(N_("El número de la solicitud o el documento de identidad"),),
    ),
)
GUIDES_BY_KEY = {tramite.key: tramite for tramite in GUIDES}

# The portal's "Listado de trámites disponibles", in its order.
TRAMITES: tuple[str, ...] = tuple(tramite.name for tramite in GUIDES)


@dataclass(frozen=True)
class Home:
    """The counts on the portal's home page for one account, and what is still missing for
    each trámite started (its name → the documents not yet ticked)."""

    inbox: int = 0
    history: int = 0
    missing: tuple[tuple[str, tuple[str, ...]], ...] = ()
