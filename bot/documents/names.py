"""Names as a zone states them (capitals, no accents) made into names as the family writes them:
title case, the accents of common Spanish names and surnames put back where only one spelling
is usual, and the surnames split into the paternal and the maternal one.

Pure. A word that is not in the list stays without accents: a guess could be wrong, and the
family sees the result and can correct it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Only names whose accented spelling is the one in use; not, say, "Oscar" (Óscar, Oscar) or
# "Zoe" (Zoé, Zoe), which are written both ways.
_ACCENTED = (
    # given names
    "Adrián Agustín Álvaro Andrés Ángel Ángela Angélica Anaís Aníbal Antonella "
    "Belén Benjamín Bastián César Cristián Concepción Darío Débora Elías Emilia "
    "Ezequías Fabián Félix Fátima Génesis Gerónimo Gustavo Héctor Hernán Inés Iván Jerónimo "
    "Jesús Joaquín José Josué Julián Lucía Matías Maximiliano Mía Moisés Mónica Nicolás "
    "Noemí Ramón Raúl Rocío Rubén Sebastián Simón Sofía Tomás Valentín Verónica Víctor "
    "María Martín Máximo Dámaris Efraín Jazmín Joel Zoraida Elián Adán "
    "Damián Esteban Germán Iñaki Iñigo Begoña Noé Amílcar Andrea Aarón "
    "Ángeles Dolores Asunción Encarnación Ascensión Purificación Guadalupe Rosalía Cecilia "
    # surnames
    "Acuña Alarcón Álvarez Aragón Arévalo Ávila Báez Benítez Bermúdez Bolívar Calderón Castañeda "
    "Chávez Colón Cortés Díaz Domínguez Espíndola Fernández Gálvez García Gómez González "
    "Gutiérrez Guzmán Hernández Ibáñez Jiménez León López Maldonado Márquez Martínez Méndez "
    "Montaño Muñoz Núñez Ordóñez Páez Peña Pérez Ramírez Ríos Rodríguez Rincón Sáez "
    "Sánchez Suárez Valdés Vásquez Vázquez Velásquez Velázquez Yáñez Zúñiga Beltrán Carreño "
    "Cárdenas Durán Echeverría Gaitán Galán Garcés Girón Godínez Guillén Ibarra Jerez Larraín "
    "Lázaro Marín Mejía Monzón Moreno Núñez Patiño Quiñónez Quiñones Rendón Román Rubén Salazar "
    "Solís Tapia Treviño Urbina Villagrán Andújar Avilés Cáceres Castaño Durán Escobar Estévez "
    "Farías Godoy Lozano Meléndez Miño Ojeda Peñaloza Pizarro Riquelme Saavedra Toledo Vélez"
)


def _bare(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn").upper()


# Only words that carry an accent or an ñ are kept: the rest need nothing put back.
ACCENTS: dict[str, str] = {
    _bare(word): word for word in _ACCENTED.split() if _bare(word) != word.upper()
}

# Words that join a surname to the next one ("de la Cruz") and stay lowercase inside a name.
_PARTICLES = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y", "SAN", "SANTA"})
_LOWERCASE = frozenset({"DE", "DEL", "LA", "LAS", "LOS", "Y"})


@dataclass(frozen=True)
class Written:
    """A name as the family writes it; `accented` when an accent or an ñ was put back."""

    text: str
    accented: bool = False


def written(name: str) -> Written:
    """ "SOFIA VALENTINA" → "Sofía Valentina"; "MARIA DE LOS ANGELES" → "María de los Ángeles"."""
    words = []
    accented = False
    for index, word in enumerate(name.split()):
        if index > 0 and word in _LOWERCASE:
            words.append(word.lower())
        elif word in ACCENTS:
            words.append(ACCENTS[word])
            accented = True
        else:
            words.append(word.capitalize())
    return Written(" ".join(words), accented)


@dataclass(frozen=True)
class Surnames:
    """The surnames of a zone's primary identifier. `unsure` when they are more than two
    words, as a compound or hyphenated surname (the zone writes "-" as a space): which part is
    which is then only a guess, that the family confirms."""

    paternal: Written
    maternal: Written
    unsure: bool


def surnames(primary: str) -> Surnames:
    """ "RODRIGUEZ PENA" → Rodríguez, Peña; "PEREZ" → Pérez and no maternal surname;
    "DE LA CRUZ PEREZ" → de la Cruz, Pérez (unsure: the family says)."""
    groups: list[list[str]] = []
    pending: list[str] = []
    for word in primary.split():
        pending.append(word)
        if word not in _PARTICLES:
            groups.append(pending)
            pending = []
    if pending:  # a name that ends in a particle: keep it with what came before
        if groups:
            groups[-1].extend(pending)
        else:
            groups.append(pending)
    joined = [" ".join(group) for group in groups]
    if not joined:
        return Surnames(Written(""), Written(""), unsure=True)
    paternal = written(joined[0])
    maternal = written(" ".join(joined[1:]))
    unsure = len(groups) > 2 or any(len(group) > 1 for group in groups)
    return Surnames(_capital_first(paternal), _capital_first(maternal), unsure)


def _capital_first(name: Written) -> Written:
    # A surname alone starts with a capital even when it starts with a particle ("De la Cruz").
    if not name.text:
        return name
    return Written(name.text[0].upper() + name.text[1:], name.accented)
