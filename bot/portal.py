"""What the portal shows a verified account: its home, as the portal's own guide pictures it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_

# The portal's "Listado de trámites disponibles", in its order.
TRAMITES: tuple[str, ...] = (
    N_("Solicitud de Residencias temporales para extranjeros dentro de Chile"),
    N_("Certificado de Permanencia Definitiva"),
    N_("Consulta de Estado de Beneficios Migratorios"),
)


@dataclass(frozen=True)
class Home:
    """The counts on the portal's home page for one account."""

    inbox: int = 0
    history: int = 0
