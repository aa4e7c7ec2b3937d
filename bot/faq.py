"""Frequent questions of families creating their SERMIG account, and a forgiving matcher that
finds them in what a family types ("no me llega el correo", "el link expiró"...).

Questions and answers are msgids: translated where they are shown. Keywords are plain Spanish,
lowercase and without accents, compared after the same normalisation as the typed text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.i18n import N_, translator


@dataclass(frozen=True)
class Question:
    key: str
    question: str
    answer: str
    keywords: tuple[str, ...]


QUESTIONS: tuple[Question, ...] = (
    Question(
        key="quien",
        question=N_("¿Quién debe crear y validar la cuenta?"),
        answer=N_(
            "La cuenta la crea y la valida la persona extranjera que pide el beneficio. "
            "Si el trámite es para un niño, niña o adolescente, la cuenta lleva los datos de "
            "su documento. Un adulto de la familia puede llenarla por él o ella."
        ),
        keywords=(
            "quien crea la cuenta",
            "quien debe crear",
            "quien valida",
            "a nombre de quien",
            "nombre de quien",
            "mis datos o los del nino",
            "con mis datos",
            "datos del nino",
            "cuenta del nino",
            "cuenta para mi hijo",
            "cuenta para mi hija",
            "datos del papa",
            "datos de la mama",
        ),
    ),
    Question(
        key="documento",
        question=N_("¿Qué documento uso para llenar los datos?"),
        answer=N_(
            "Use el documento del niño, niña o adolescente: su pasaporte, su cédula de "
            "identidad o su certificado de nacimiento. Escriba el nombre, los apellidos y la "
            "fecha de nacimiento tal como aparecen allí."
        ),
        keywords=(
            "que documento",
            "cual documento",
            "que documento uso",
            "pasaporte",
            "cedula",
            "cedula de identidad",
            "dni",
            "certificado de nacimiento",
            "partida de nacimiento",
            "acta de nacimiento",
            "que datos pongo",
            "como escribo el nombre",
        ),
    ),
    Question(
        key="contrasena",
        question=N_("¿Por qué la contraseña debe tener 8 caracteres?"),
        answer=N_(
            "El portal pide una contraseña de 8 caracteres como mínimo. Use letras y números. "
            "Anótela en un lugar seguro: la necesitará para entrar al portal. "
            "No se la dé a nadie."
        ),
        keywords=(
            "contrasena",
            "contrasena corta",
            "clave corta",
            "mi clave no sirve",
            "8 caracteres",
            "ocho caracteres",
            "caracteres",
            "password",
            "que contrasena pongo",
        ),
    ),
    Question(
        key="correo",
        question=N_("No me llega el correo de validación, ¿qué hago?"),
        answer=N_(
            "Revise la carpeta de spam o de correo no deseado. Espere unos minutos: a veces "
            "tarda. Revise que su correo esté bien escrito. Si no llega, escriba /reenviar y "
            "le mando un enlace nuevo."
        ),
        keywords=(
            "no me llega el correo",
            "no llega el correo",
            "no me llego el correo",
            "no llego el correo",
            "no me llega",
            "no me llego",
            "no recibi el correo",
            "no recibo el correo",
            "no encuentro el correo",
            "correo de validacion",
            "correo no deseado",
            "spam",
            "email",
            "mail",
            "reenviar",
        ),
    ),
    Question(
        key="enlace_vencido",
        question=N_("El enlace de validación venció, ¿qué hago?"),
        answer=N_(
            "El enlace sirve por 48 horas. Si venció, escriba /reenviar y le mando uno nuevo. "
            "Abra el enlace del mensaje más nuevo."
        ),
        keywords=(
            "link expiro",
            "enlace expiro",
            "link vencido",
            "enlace vencido",
            "link vencio",
            "enlace vencio",
            "link caduco",
            "enlace caduco",
            "expiro",
            "vencio",
            "caduco",
            "link no funciona",
            "enlace no funciona",
            "link no sirve",
            "48 horas",
            "link",
            "enlace",
        ),
    ),
    Question(
        key="navegador",
        question=N_("¿Qué navegador uso para el portal?"),
        answer=N_(
            "El portal de trámites funciona mejor en Google Chrome. Si una página no carga o "
            "un botón no responde, ábrala en Chrome."
        ),
        keywords=(
            "navegador",
            "chrome",
            "google chrome",
            "pagina no carga",
            "no carga",
            "no abre la pagina",
            "pagina no funciona",
            "boton no funciona",
            "safari",
            "firefox",
            "internet explorer",
        ),
    ),
    Question(
        key="clave_unica",
        question=N_("¿Qué es la Clave Única? ¿La necesito?"),
        answer=N_(
            "La Clave Única es para personas que tienen RUN chileno. Si la persona que pide el "
            "trámite no tiene RUN, use la cuenta del propio portal, que se abre con correo y "
            "contraseña. Esa es la cuenta que le ayudo a crear."
        ),
        keywords=(
            "clave unica",
            "que es clave unica",
            "iniciar con clave unica",
            "run",
            "rut",
            "no tengo run",
            "no tengo rut",
            "correo y contrasena",
        ),
    ),
    Question(
        key="ninez_migrante",
        question=N_("¿Qué es Niñez Migrante?"),
        answer=N_(
            "Con Niñez Migrante se pide la residencia de un niño, niña o adolescente "
            "extranjero en Chile, sin importar la situación migratoria de sus padres. "
            "Es gratis."
        ),
        keywords=(
            "ninez migrante",
            "que es ninez migrante",
            "programa",
            "residencia",
            "visa",
            "regularizar",
            "sin papeles",
            "no tengo papeles",
            "no tienen papeles",
            "situacion migratoria",
            "estoy irregular",
            "para que sirve",
            "beneficio",
        ),
    ),
    Question(
        key="documentos_tramite",
        question=N_("¿Qué documentos piden para el trámite?"),
        answer=N_(
            "Se suele pedir el documento de identidad del niño, niña o adolescente, su "
            "certificado de nacimiento y un comprobante de matrícula escolar o de control de "
            "salud. Los requisitos pueden cambiar: un voluntario puede confirmarle la lista."
        ),
        keywords=(
            "que documentos",
            "que documentos piden",
            "documentos piden",
            "requisitos",
            "que necesito",
            "que papeles",
            "matricula",
            "alumno regular",
            "certificado de alumno regular",
            "control de salud",
            "control sano",
            "colegio",
            "escuela",
            "consultorio",
        ),
    ),
    Question(
        key="gratis",
        question=N_("¿Cuánto cuesta? ¿Alguien me puede cobrar?"),
        answer=N_(
            "Crear la cuenta es gratis, y el trámite de Niñez Migrante también. El trámite es "
            "personal. Desconfíe de quien le pida dinero o su contraseña, aunque diga que le "
            "ayuda o que es de Migraciones. Nosotros nunca le pediremos dinero."
        ),
        keywords=(
            "cuanto cuesta",
            "cuesta",
            "cuanto vale",
            "cuanto sale",
            "precio",
            "pagar",
            "hay que pagar",
            "cobran",
            "me cobraron",
            "me quieren cobrar",
            "pidieron plata",
            "me pidieron plata",
            "pidieron dinero",
            "plata",
            "dinero",
            "pidieron mi contrasena",
            "pidieron mi clave",
            "estafa",
            "gratis",
            "tramitador",
            "gestor",
        ),
    ),
)

# A keyword (or the question) must be at least this close to what was typed.
CUTOFF = 85
# Short keywords ("run", "dni", "mail") must appear as they are: one wrong letter is another word.
EXACT_BELOW = 5
# The question's own words count only after dropping these: "que" or "la" match anything.
STOPWORDS = frozenset(
    """a al algo alguien como con cual de del el ella en es esa ese esta este hay la las le lo
    los me mi mis no o para pero por que se si su sus te tu un una uno y ya yo debe puede
    hola gracias buenas buenos dias tardes noches ok okay bueno vale saludos chao adios
    quiero saber necesito ayuda""".split()
)
_MAX_CHARS = 400


def normalise(text: str) -> str:
    """Lowercase, without accents or punctuation, single spaces: "¿Expiró?" -> "expiro"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).replace("_", " ").split())


def _keyword_score(words: list[str], keyword: str) -> float:
    """How closely some run of the typed words (about as many as the keyword's) matches it."""
    size = len(keyword.split())
    if len(keyword) < EXACT_BELOW:
        return 100.0 if size == 1 and keyword in words else 0.0
    best = 0.0
    for width in {max(1, size - 1), size, size + 1}:
        width = min(width, len(words))
        for start in range(len(words) - width + 1):
            best = max(best, fuzz.ratio(" ".join(words[start : start + width]), keyword))
    return best


def _content(text: str) -> str:
    return " ".join(word for word in text.split() if word not in STOPWORDS)


def _score(text: str, question: Question, locale: str = "es") -> tuple[float, int]:
    """(closeness, length of the keyword that matched): longer keywords are more specific."""
    words = text.split()
    best: tuple[float, int] = (0.0, 0)
    for keyword in question.keywords:
        score = _keyword_score(words, keyword)
        if score >= CUTOFF:
            best = max(best, (score, len(keyword)))
    content = _content(text)
    if content:
        # The question as the family reads it, in its language, and in Spanish.
        shown = {question.question, translator(locale)(question.question)}
        for wording in shown:
            score = fuzz.token_set_ratio(content, _content(normalise(wording)))
            if score >= CUTOFF:
                best = max(best, (score, 0))
    return best


def match(text: str, *, locale: str = "es", limit: int = 3) -> list[Question]:
    """The questions closest to what a family typed (in Spanish or in its `locale`), best
    first; none for unrelated text."""
    normalised = normalise(text[:_MAX_CHARS])
    if not normalised:
        return []
    scored = [
        (_score(normalised, question, locale), index) for index, question in enumerate(QUESTIONS)
    ]
    found = sorted(
        ((score, index) for score, index in scored if score[0] >= CUTOFF),
        key=lambda item: (-item[0][0], -item[0][1], item[1]),
    )
    return [QUESTIONS[index] for _, index in found[:limit]]


def by_key(key: str) -> Question | None:
    return next((question for question in QUESTIONS if question.key == key), None)
